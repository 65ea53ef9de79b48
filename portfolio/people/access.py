"""Course-scoped loading: every URL names its course, and a course the person does not
belong to is a 404, never a 403 that would confirm it exists."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask import abort, g, has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portfolio.db import db
from portfolio.people.models import Course, Membership, User
from portfolio.people.queries import membership_of


@cache
def _signed_in_statement() -> sa.Select:
    """The user loader's statement, built once: every request runs it, with other ids."""
    from portfolio.privacy.models import NOTICE_VERSION, PrivacyAcknowledgement

    acknowledged = sa.exists().where(PrivacyAcknowledgement.user_id == User.id,
                                     PrivacyAcknowledgement.version == NOTICE_VERSION)
    return (sa.select(User, Membership, acknowledged.label("acknowledged"))
            .outerjoin(Membership, sa.and_(Membership.user_id == User.id,
                                           Membership.course_id == sa.bindparam("course_id")))
            .options(joinedload(Membership.course))
            .where(User.id == sa.bindparam("user_id")))


def load_signed_in(user_id: int) -> User | None:
    """The signed-in person (Flask-Login's user loader). On a course's page, the same
    statement brings their membership there, with the course, and whether they have
    acknowledged the privacy notice: every such page needs all three."""
    course_id = (request.view_args or {}).get("course_id") if has_request_context() else None
    if not isinstance(course_id, int):
        return db.session.get(User, user_id)
    found = db.session.execute(_signed_in_statement(), {"course_id": course_id, "user_id": user_id}).first()
    if found is None:
        return None
    g.signed_in_membership = (course_id, found.Membership, found.acknowledged)
    return found.User


def load_membership(course_id: int) -> Membership:
    """The current person's membership in the course, else 404 (or 401 when signed out)."""
    if not current_user.is_authenticated:
        abort(401, description="Your session has ended. Open the tool again from your course in the LMS.")
    loaded = g.get("signed_in_membership")
    if loaded is not None and loaded[0] == course_id and (loaded[1] is None or loaded[1].user_id == current_user.id):
        membership, acknowledged = loaded[1], loaded[2]
    else:  # every page shows the course: it comes with the membership, not in a query of its own
        membership = db.session.scalar(membership_of(current_user.id, course_id).options(joinedload(Membership.course)))
        acknowledged = None
    if membership is None:
        abort(404)
    g.membership = membership
    if acknowledged is not None:
        from portfolio.privacy.operations import notice_due

        g.privacy_notice_due = notice_due(current_user, membership, acknowledged=acknowledged)
    return membership


def load_course(course_id: int) -> Course:
    return load_membership(course_id).course
