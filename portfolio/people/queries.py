from __future__ import annotations

import sqlalchemy as sa

from portfolio.people.models import Course, Membership, Role, User


def membership_of(user_id: int, course_id: int) -> sa.Select:
    return sa.select(Membership).where(Membership.user_id == user_id, Membership.course_id == course_id)


def course_members(course_id: int, role: Role | None = None) -> sa.Select:
    stmt = (
        sa.select(Membership)
        .join(Membership.user)
        .where(Membership.course_id == course_id)
        .order_by(Membership.role, sa.func.lower(sa.func.coalesce(User.name, User.email, "")))
    )
    if role is not None:
        stmt = stmt.where(Membership.role == role)
    return stmt


def courses_of_platform(platform_id: int) -> sa.Select:
    """(course, member count) rows, in one query."""
    members = (
        sa.select(sa.func.count(Membership.id)).where(Membership.course_id == Course.id).scalar_subquery()
    )
    return (
        sa.select(Course, members.label("member_count"))
        .where(Course.platform_id == platform_id)
        .order_by(Course.title)
    )
