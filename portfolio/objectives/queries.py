from __future__ import annotations

import sqlalchemy as sa

from portfolio.journal.models import task_objective
from portfolio.objectives.models import Objective
from portfolio.people.models import Course


def course_objectives(course_id: int, *, include_retired: bool = False) -> sa.Select:
    """The course's framework in its order; retired objectives only when asked for."""
    stmt = sa.select(Objective).where(Objective.course_id == course_id).order_by(Objective.position, Objective.id)
    if not include_retired:
        stmt = stmt.where(Objective.retired_at.is_(None))
    return stmt


def objective_in_course(objective_id: int, course_id: int) -> sa.Select:
    return sa.select(Objective).where(Objective.id == objective_id, Objective.course_id == course_id)


def last_position(course_id: int) -> sa.Select:
    return sa.select(sa.func.coalesce(sa.func.max(Objective.position), 0)).where(Objective.course_id == course_id)


def code_in_course(course_id: int, code: str) -> sa.Select:
    return sa.select(Objective.id).where(Objective.course_id == course_id, Objective.code == code)


def task_count(objective_id: int) -> sa.Select:
    return sa.select(sa.func.count()).select_from(task_objective).where(task_objective.c.objective_id == objective_id)


def task_counts(course_id: int) -> sa.Select:
    """(objective id, number of tasks using it) for the course's objectives that are used."""
    return (
        sa.select(task_objective.c.objective_id, sa.func.count())
        .join(Objective, Objective.id == task_objective.c.objective_id)
        .where(Objective.course_id == course_id)
        .group_by(task_objective.c.objective_id)
    )


def copy_sources(course: Course) -> sa.Select:
    """(course, active objective count) for the platform's other courses that have a framework."""
    count = sa.func.count(Objective.id).label("objective_count")
    return (
        sa.select(Course, count)
        .join(Objective, Objective.course_id == Course.id)
        .where(Course.platform_id == course.platform_id, Course.id != course.id, Objective.retired_at.is_(None))
        .group_by(Course.id)
        .order_by(Course.title, Course.id)
    )


def copy_source(course: Course, source_id: int) -> sa.Select:
    """Another course of the same platform; any other id finds nothing."""
    return sa.select(Course).where(
        Course.id == source_id, Course.platform_id == course.platform_id, Course.id != course.id
    )
