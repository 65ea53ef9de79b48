"""Keeping ``intern_standing`` (the dashboard's figures per intern) honest.

Writers never compute figures: every flush that writes an intern's entries, tasks or
placement raises that intern's ``version`` in the same transaction, and so do the few
statements that change those tables without the ORM (they call ``touch``). The dashboard
reads the versions first, then the journal, and stores what it computed under the version
it read, only if the version has not moved since (``store``). A write that commits while
the dashboard computes therefore leaves the row out of date, never wrong: the next view
computes it again.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from portfolio.cohort.models import InternStanding
from portfolio.db import upsert_insert
from portfolio.journal.models import Entry, Task
from portfolio.placements.models import Placement

BATCH = 500  # rows per INSERT: well under SQLite's limit of bound parameters
FIGURES = ("valid_until", "approved", "submitted", "missing", "waiting_since", "hours_logged", "hours_expected",
           "coverage")


def touch(connection: sa.Connection, pairs: Iterable[tuple[int, int]]) -> None:
    """Mark the figures of each (course id, intern id) as out of date."""
    ordered = sorted(set(pairs))  # one order for every writer: no deadlock between two of them
    if not ordered:
        return
    insert = upsert_insert(InternStanding, connection.dialect.name)
    for start in range(0, len(ordered), BATCH):
        rows = [dict(course_id=c, intern_id=i, version=1, coverage={}) for c, i in ordered[start:start + BATCH]]
        connection.execute(insert.values(rows).on_conflict_do_update(
            index_elements=["course_id", "intern_id"], set_={"version": InternStanding.version + 1}))


def store(connection: sa.Connection, course_id: int, computed: dict[int, tuple[int, dict]]) -> None:
    """Keep figures computed from the journal: ``computed`` maps an intern to the version read
    before the journal was read, and the figures (the keys of ``FIGURES``). A row whose
    version moved in the meantime keeps its old figures and stays out of date."""
    if not computed:
        return
    insert = upsert_insert(InternStanding, connection.dialect.name)
    items = sorted(computed.items())
    for start in range(0, len(items), BATCH):
        rows = [dict(course_id=course_id, intern_id=intern_id, version=version, computed_version=version, **figures)
                for intern_id, (version, figures) in items[start:start + BATCH]]
        statement = insert.values(rows)
        connection.execute(statement.on_conflict_do_update(
            index_elements=["course_id", "intern_id"],
            set_={"computed_version": statement.excluded.computed_version,
                  **{name: getattr(statement.excluded, name) for name in FIGURES}},
            where=InternStanding.version == statement.excluded.version))


def forget(connection: sa.Connection, *, course_id: int | None = None, intern_id: int | None = None) -> None:
    """Clear the kept figures of a course, of a person, or of one person in one course, and
    move their versions on, so that a dashboard computing from the old journal right now
    cannot store its result."""
    statement = sa.update(InternStanding).values(
        version=InternStanding.version + 1, computed_version=None, valid_until=None, approved=0, submitted=0,
        missing=0, waiting_since=None, hours_logged=0, hours_expected=0, coverage={})
    if course_id is not None:
        statement = statement.where(InternStanding.course_id == course_id)
    if intern_id is not None:
        statement = statement.where(InternStanding.intern_id == intern_id)
    connection.execute(statement)


_TOUCHED = "portfolio.standing.touched"  # session.info: the pairs this transaction already marked


@sa.event.listens_for(Session, "after_flush")
def _journal_written(session: Session, _context) -> None:
    """Every ORM write to an entry, a task or a placement marks its intern's figures out of
    date, once per transaction: the raised version becomes visible with the transaction's
    other writes, at its commit, so a second raise would tell a dashboard nothing more."""
    pairs: set[tuple[int, int]] = set()
    entry_ids: set[int] = set()
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, (Entry, Placement)):
            if instance.course_id is not None and instance.intern_id is not None:
                pairs.add((instance.course_id, instance.intern_id))
        elif isinstance(instance, Task) and instance.entry_id is not None:
            entry = session.identity_map.get(identity_key(Entry, instance.entry_id))
            if entry is not None and entry.course_id is not None and entry.intern_id is not None:
                pairs.add((entry.course_id, entry.intern_id))
            else:
                entry_ids.add(instance.entry_id)
    touched = session.info.setdefault(_TOUCHED, set())
    pairs -= touched
    if not pairs and not entry_ids:
        return
    connection = session.connection()
    if entry_ids:
        pairs.update(connection.execute(
            sa.select(Entry.course_id, Entry.intern_id).where(Entry.id.in_(entry_ids))).all())
        pairs -= touched
    touch(connection, pairs)
    touched.update(pairs)


@sa.event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction) -> None:
    """The transaction's end, or a savepoint's (a rolled-back savepoint may have held a
    mark); not the inner step each flush opens and closes."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(_TOUCHED, None)
