"""Read helpers for grading: ``select()`` statements, scoped to a course."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portfolio.grading.models import Criterion, Grade, GradeState, Mark, Rubric
from portfolio.people.models import Course, Membership, Role, User


def rubric_of(course_id: int) -> sa.Select:
    return (sa.select(Rubric).where(Rubric.course_id == course_id)
            .options(selectinload(Rubric.criteria).selectinload(Criterion.levels)))


def criterion_in_course(criterion_id: int, course_id: int) -> sa.Select:
    return (sa.select(Criterion).join(Rubric, Rubric.id == Criterion.rubric_id)
            .where(Criterion.id == criterion_id, Rubric.course_id == course_id))


def grade_of(course_id: int, intern_id: int) -> sa.Select:
    return (sa.select(Grade).where(Grade.course_id == course_id, Grade.intern_id == intern_id)
            .options(selectinload(Grade.marks), selectinload(Grade.delivery)))


def grades_of_course(course_id: int) -> sa.Select:
    return (sa.select(Grade).where(Grade.course_id == course_id).order_by(Grade.id)
            .options(selectinload(Grade.marks).selectinload(Mark.level), selectinload(Grade.delivery)))


def drafts_of_course(course_id: int) -> sa.Select:
    return (sa.select(Grade).where(Grade.course_id == course_id, Grade.state == GradeState.draft)
            .order_by(Grade.id).options(selectinload(Grade.marks), selectinload(Grade.delivery)))


def intern_of(course_id: int, intern_id: int) -> sa.Select:
    return sa.select(Membership).where(Membership.course_id == course_id, Membership.user_id == intern_id,
                                       Membership.role == Role.intern)


def cohort_grades(course_id: int) -> sa.Select:
    """(intern membership, grade or None) for every intern of the course, by name."""
    return (
        sa.select(Membership, Grade)
        .join(User, User.id == Membership.user_id)
        .outerjoin(Grade, sa.and_(Grade.course_id == Membership.course_id, Grade.intern_id == Membership.user_id))
        .where(Membership.course_id == course_id, Membership.role == Role.intern)
        .options(selectinload(Grade.delivery))
        .order_by(sa.func.lower(sa.func.coalesce(User.name, User.email, "")), User.id)
    )


def grade_count(course_id: int) -> sa.Select:
    return sa.select(sa.func.count(Grade.id)).where(Grade.course_id == course_id)


def criterion_usage(course_id: int) -> sa.Select:
    """(criterion id, grades marking it, released grades marking it) for the course's rubric."""
    released = sa.func.sum(sa.case((Grade.state == GradeState.released, 1), else_=0))
    return (
        sa.select(Mark.criterion_id, sa.func.count(Mark.id), released)
        .join(Grade, Grade.id == Mark.grade_id)
        .where(Grade.course_id == course_id, Mark.level_id.is_not(None))
        .group_by(Mark.criterion_id)
    )


def copy_sources(course: Course, user_id: int) -> sa.Select:
    """(course, criterion count) for the platform's other courses where this person advises
    and whose rubric has criteria."""
    count = sa.func.count(Criterion.id).label("criterion_count")
    return (
        sa.select(Course, count)
        .join(Membership, sa.and_(Membership.course_id == Course.id, Membership.user_id == user_id))
        .join(Rubric, Rubric.course_id == Course.id)
        .join(Criterion, Criterion.rubric_id == Rubric.id)
        .where(Course.platform_id == course.platform_id, Course.id != course.id,
               Membership.role.in_([Role.advisor, Role.admin]))
        .group_by(Course.id)
        .order_by(Course.title, Course.id)
    )


def copy_source(course: Course, user_id: int, source_id: int) -> sa.Select:
    """Another course of the same platform where this person advises; any other id finds nothing."""
    return (
        sa.select(Course)
        .join(Membership, sa.and_(Membership.course_id == Course.id, Membership.user_id == user_id))
        .where(Course.id == source_id, Course.platform_id == course.platform_id, Course.id != course.id,
               Membership.role.in_([Role.advisor, Role.admin]))
    )
