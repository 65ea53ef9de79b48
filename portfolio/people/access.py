"""Course-scoped loading: every URL names its course, and a course the person does not
belong to is a 404, never a 403 that would confirm it exists."""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user
from sqlalchemy.orm import joinedload

from portfolio.db import db
from portfolio.people.models import Course, Membership
from portfolio.people.queries import membership_of


def load_membership(course_id: int) -> Membership:
    """The current person's membership in the course, else 404 (or 401 when signed out)."""
    if not current_user.is_authenticated:
        abort(401, description="Your session has ended. Open the tool again from your course in the LMS.")
    # Every page shows the course: it comes with the membership, not in a query of its own.
    membership = db.session.scalar(membership_of(current_user.id, course_id).options(joinedload(Membership.course)))
    if membership is None:
        abort(404)
    g.membership = membership
    return membership


def load_course(course_id: int) -> Course:
    return load_membership(course_id).course
