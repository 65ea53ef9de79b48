from __future__ import annotations

from datetime import date
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portfolio.db import db
from portfolio.journal.models import Entry, Task, task_objective
from portfolio.objectives.models import Objective
from portfolio.people.models import Course
from portfolio.templating import Memo


def newest_entry(course_id: int, intern_id: int, week_start: date) -> sa.Select:
    """The live revision of a week."""
    return (
        sa.select(Entry)
        .where(Entry.course_id == course_id, Entry.intern_id == intern_id, Entry.week_start == week_start)
        .order_by(Entry.revision.desc())
        .limit(1)
    )


def entries_of_intern(course_id: int, intern_id: int) -> sa.Select:
    """Every revision of every week of one intern, with tasks and objectives, in one go."""
    return (
        sa.select(Entry)
        .where(Entry.course_id == course_id, Entry.intern_id == intern_id)
        .options(selectinload(Entry.tasks).selectinload(Task.objectives))
        .order_by(Entry.week_start, Entry.revision)
    )


@cache
def revision_rows() -> sa.Select:
    """Every revision of every week of one intern, as plain rows rather than entities: one
    row per revision, task and objective the task serves, (entry_id, week_start, revision,
    state, has_reflection, task_id, hours, objective_id), task and objective None where
    there are none. In week and revision order, a revision's rows together.

    Bound when executed: ``course_id`` and ``intern_id``. Built once: the journal's home
    runs it on every visit, and building a statement of three joins each time is a
    noticeable part of the page's time."""
    return (
        sa.select(
            Entry.id, Entry.week_start, Entry.revision, Entry.state,
            sa.case((Entry.reflection == "", 0), else_=1).label("has_reflection"),
            Task.id.label("task_id"), Task.hours, task_objective.c.objective_id,
        )
        .outerjoin(Task, Task.entry_id == Entry.id)
        .outerjoin(task_objective, task_objective.c.task_id == Task.id)
        .where(Entry.course_id == sa.bindparam("course_id", type_=sa.Integer),
               Entry.intern_id == sa.bindparam("intern_id", type_=sa.Integer))
        .order_by(Entry.week_start, Entry.revision, Task.id)
    )


@cache
def active_objective_rows() -> sa.Select:
    """The course's active objectives as plain rows (id, code, title, target, position), in the
    course's order. Bound when executed: ``course_id``."""
    return (
        sa.select(Objective.id, Objective.code, Objective.title, Objective.target, Objective.position)
        .where(Objective.course_id == sa.bindparam("course_id", type_=sa.Integer), Objective.retired_at.is_(None))
        .order_by(Objective.position, Objective.code)
    )


_ACTIVE = Memo(4_000)  # (course, stamp) -> rows


def active_objectives(course: Course) -> list[sa.Row]:
    """``active_objective_rows`` of the course, kept for the process under the course's
    ``objectives_stamp``, which every change to its objectives moves: the intern's home and
    the dashboard read the course row anyway, so an unchanged framework costs no statement.
    (A stamp written by a transaction that then rolled back is never seen again.)"""
    key = (course.id, course.created_at, course.objectives_stamp)  # SQLite may give a deleted course's id again
    found = _ACTIVE.get(key)
    if found is None:
        found = _ACTIVE.keep(key, tuple(
            db.session.connection().execute(active_objective_rows(), {"course_id": course.id}).all()))
    return list(found)


def revisions_of_week(course_id: int, intern_id: int, week_start: date) -> sa.Select:
    return (
        sa.select(Entry)
        .where(Entry.course_id == course_id, Entry.intern_id == intern_id, Entry.week_start == week_start)
        .order_by(Entry.revision.desc())
    )
