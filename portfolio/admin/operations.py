"""The admin's state changes: sending a mail or a score again. They flush and audit; the
caller commits. Retention and erasure live in portfolio.privacy.operations."""

from __future__ import annotations

from flask_babel import gettext as _

from portfolio.audit.operations import record_event
from portfolio.db import db, utcnow
from portfolio.errors import InvalidTransition, ensure
from portfolio.grading.models import DeliveryState, ScoreDelivery
from portfolio.notify.models import OutboxMessage, OutboxState
from portfolio.people.models import Course, Membership, Role


def can_administer_course(membership: Membership | None, course: Course | None) -> bool:
    """An admin acts on every course of the platform of the course they came from."""
    return (membership is not None and membership.role is Role.admin and course is not None
            and membership.course.platform_id == course.platform_id)


def retry_mail(message: OutboxMessage, *, by: Membership | None = None, via: str = "web") -> None:
    """A failed or waiting mail is tried again now, with a fresh count of attempts."""
    course = db.session.get(Course, message.course_id) if message.course_id else None
    if by is not None:
        ensure(can_administer_course(by, course))
    if message.state not in (OutboxState.failed, OutboxState.pending):
        raise InvalidTransition(_("This mail is being sent right now.") if message.state is OutboxState.sending
                                else _("This mail was sent already."))
    previous = message.state.value
    message.state, message.attempts, message.next_attempt_at = OutboxState.pending, 0, utcnow()
    db.session.flush()
    record_event("outbox.retried", actor=by.user if by else None, course=course, subject=message, via=via,
                 previous_state=previous)


def retry_score(delivery: ScoreDelivery, *, by: Membership | None = None, via: str = "web") -> None:
    """A failed or waiting score goes to the LMS again now, with a fresh count of attempts."""
    course = db.session.get(Course, delivery.course_id)
    if by is not None:
        ensure(can_administer_course(by, course))
    if delivery.state not in (DeliveryState.failed, DeliveryState.pending):
        raise InvalidTransition(_("This score is being sent right now.") if delivery.state is DeliveryState.sending
                                else _("The LMS already has this score."))
    previous = delivery.state.value
    delivery.state, delivery.attempts, delivery.next_attempt_at = DeliveryState.pending, 0, utcnow()
    db.session.flush()
    record_event("grade.delivery_retried", actor=by.user if by else None, course=course, subject=delivery.grade,
                 via=via, previous_state=previous)
