"""Read helpers of privacy: acknowledgements, the people and courses an admin answers
for (every course of their platform), and the end date of a course."""

from __future__ import annotations

import sqlalchemy as sa

from portfolio.people.models import Course, Membership, User
from portfolio.placements.models import Placement
from portfolio.privacy.models import CourseArchive, CourseRetention, PrivacyAcknowledgement


def acknowledgement(user_id: int, version: str) -> sa.Select:
    return sa.select(PrivacyAcknowledgement).where(PrivacyAcknowledgement.user_id == user_id,
                                                   PrivacyAcknowledgement.version == version)


def people_of_platform(platform_id: int, q: str = "") -> sa.Select:
    """Everyone with a membership in a course of the platform, by name."""
    stmt = (sa.select(User).where(User.id.in_(
        sa.select(Membership.user_id).join(Course, Course.id == Membership.course_id)
        .where(Course.platform_id == platform_id)))
        .order_by(sa.func.lower(sa.func.coalesce(User.name, User.email, "")), User.id))
    if q:
        pattern = f"%{q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.name).like(pattern), sa.func.lower(User.email).like(pattern)))
    return stmt


def person_in_platform(platform_id: int, user_id: int) -> sa.Select:
    return people_of_platform(platform_id).where(User.id == user_id)


def course_of_platform(platform_id: int, course_id: int) -> sa.Select:
    return sa.select(Course).where(Course.platform_id == platform_id, Course.id == course_id)


def latest_placement_end(course_id: int) -> sa.Select:
    return sa.select(sa.func.max(Placement.end_date)).where(Placement.course_id == course_id)


def retention_of(course_id: int) -> sa.Select:
    return sa.select(CourseRetention).where(CourseRetention.course_id == course_id)


def archives_of(course_id: int) -> sa.Select:
    return (sa.select(CourseArchive).where(CourseArchive.course_id == course_id)
            .order_by(CourseArchive.intern_ref, CourseArchive.kind, CourseArchive.id))


def courses_with_retention() -> sa.Select:
    """Every course with a retention setting, oldest first: what the scheduled run looks at."""
    return (sa.select(Course, CourseRetention).join(CourseRetention, CourseRetention.course_id == Course.id)
            .order_by(Course.id))
