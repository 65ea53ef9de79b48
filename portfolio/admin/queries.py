"""What the admin pages list, always within one platform: its courses, the mails and
scores waiting or failed for them, and the audit trail of its courses."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from portfolio.audit.models import AuditEvent
from portfolio.grading.models import DeliveryState, Grade, ScoreDelivery
from portfolio.notify.models import OutboxMessage, OutboxState
from portfolio.people.models import Course

OPEN_MAIL = (OutboxState.pending, OutboxState.sending, OutboxState.failed)
OPEN_SCORES = (DeliveryState.pending, DeliveryState.sending, DeliveryState.failed)


def _platform_courses(platform_id: int):
    return sa.select(Course.id).where(Course.platform_id == platform_id)


def mails(platform_id: int, state: str | None = None, limit: int = 200) -> sa.Select:
    states = [OutboxState(state)] if state in {s.value for s in OPEN_MAIL} else list(OPEN_MAIL)
    return (sa.select(OutboxMessage).where(OutboxMessage.course_id.in_(_platform_courses(platform_id)),
                                           OutboxMessage.state.in_(states))
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))


def mail_of_platform(platform_id: int, message_id: int) -> sa.Select:
    return sa.select(OutboxMessage).where(OutboxMessage.id == message_id,
                                          OutboxMessage.course_id.in_(_platform_courses(platform_id)))


def scores(platform_id: int, state: str | None = None, limit: int = 200) -> sa.Select:
    states = [DeliveryState(state)] if state in {s.value for s in OPEN_SCORES} else list(OPEN_SCORES)
    return (sa.select(ScoreDelivery).join(Grade, Grade.id == ScoreDelivery.grade_id)
            .where(ScoreDelivery.course_id.in_(_platform_courses(platform_id)), ScoreDelivery.state.in_(states))
            .order_by(ScoreDelivery.next_attempt_at, ScoreDelivery.id).limit(limit))


def score_of_platform(platform_id: int, delivery_id: int) -> sa.Select:
    return sa.select(ScoreDelivery).where(ScoreDelivery.id == delivery_id,
                                          ScoreDelivery.course_id.in_(_platform_courses(platform_id)))


def audit(platform_id: int | None, *, action: str = "", course_id: int | None = None, person_id: int | None = None,
          since: datetime | None = None, until: datetime | None = None, before_id: int | None = None,
          limit: int = 100) -> sa.Select:
    """Events of the platform's courses (all events when ``platform_id`` is None: the shell),
    newest first, narrowed by the filters given."""
    stmt = sa.select(AuditEvent)
    if platform_id is not None:
        stmt = stmt.where(AuditEvent.course_id.in_(_platform_courses(platform_id)))
    if action:
        stmt = stmt.where(AuditEvent.action.like(action.replace("%", "").replace("_", r"\_") + "%", escape="\\"))
    if course_id is not None:
        stmt = stmt.where(AuditEvent.course_id == course_id)
    if person_id is not None:
        stmt = stmt.where(sa.or_(AuditEvent.actor_id == person_id, AuditEvent.about_id == person_id))
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    return stmt.order_by(AuditEvent.id.desc()).limit(limit)
