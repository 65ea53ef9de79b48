from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portfolio.journal.models import Entry, Task


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


def revisions_of_week(course_id: int, intern_id: int, week_start: date) -> sa.Select:
    return (
        sa.select(Entry)
        .where(Entry.course_id == course_id, Entry.intern_id == intern_id, Entry.week_start == week_start)
        .order_by(Entry.revision.desc())
    )
