from __future__ import annotations

import sqlalchemy as sa

from portfolio.people.models import Membership, Role, User
from portfolio.placements.models import Placement


def interns_with_placements(course_id: int) -> sa.Select:
    """(intern membership, placement or None) for every intern of the course, by name."""
    return (
        sa.select(Membership, Placement)
        .join(Membership.user)
        .outerjoin(Placement, sa.and_(Placement.course_id == course_id, Placement.intern_id == Membership.user_id))
        .where(Membership.course_id == course_id, Membership.role == Role.intern)
        .order_by(sa.func.lower(sa.func.coalesce(User.name, User.email, "")))
    )
