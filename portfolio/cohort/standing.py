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


def store(connection: sa.Connection, course_id: int, computed: dict[int, tuple[int, dict]]) -> int:
    """Keep figures computed from the journal: ``computed`` maps an intern to the version read
    before the journal was read, and the figures (the keys of ``FIGURES``). A row whose
    version moved in the meantime keeps its old figures and stays out of date, and so does
    one a writer holds. Returns how many rows were offered to the database."""
    if not computed:
        return 0
    if connection.dialect.name == "postgresql":
        computed = _not_held_by_writers(connection, course_id, computed)
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
    return len(items)


def _not_held_by_writers(connection: sa.Connection, course_id: int, computed: dict) -> dict:
    """``computed`` without the rows a writer holds right now (PostgreSQL): that writer is
    about to raise their version, so their figures would not be kept anyway, and waiting
    for it would only hold the dashboard up. The rows left are locked until the commit."""
    ids = sorted(computed)
    existing, free = set(), set()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start:start + BATCH]
        where = (InternStanding.course_id == course_id, InternStanding.intern_id.in_(chunk))
        existing.update(connection.execute(sa.select(InternStanding.intern_id).where(*where)).scalars())
        free.update(connection.execute(sa.select(InternStanding.intern_id).where(*where)
                                       .with_for_update(skip_locked=True)).scalars())
    return {i: value for i, value in computed.items() if i in free or i not in existing}


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


_PENDING = "portfolio.standing.pending"  # session.info: pairs written since the last mark
_TOUCHED = "portfolio.standing.touched"  # session.info: pairs this transaction already marked


@sa.event.listens_for(Session, "after_flush")
def _journal_written(session: Session, _context) -> None:
    """Every ORM write to an entry, a task or a placement makes its intern's figures out of
    date: noted here, marked when the transaction commits (``_mark_before_commit``)."""
    pending = session.info.setdefault(_PENDING, set())
    for instance in chain(session.new, session.dirty, session.deleted):
        if isinstance(instance, (Entry, Placement)):
            if instance.course_id is not None and instance.intern_id is not None:
                pending.add((instance.course_id, instance.intern_id))
        elif isinstance(instance, Task) and instance.entry_id is not None:
            entry = session.identity_map.get(identity_key(Entry, instance.entry_id))
            if entry is not None and entry.course_id is not None and entry.intern_id is not None:
                pending.add((entry.course_id, entry.intern_id))
            else:
                pending.add(("entry", instance.entry_id))


@sa.event.listens_for(Session, "before_commit")
def _mark_before_commit(session: Session) -> None:
    """Raise the version of every intern the transaction wrote, once each, as its last
    statements: the raised version becomes visible with the other writes, at the commit,
    so marking later tells a dashboard the same and holds the row's lock for a moment
    only (a dashboard storing figures skips rows a writer holds)."""
    session.flush()  # what the commit would flush next is noted first
    pending = session.info.get(_PENDING)
    if not pending:
        return
    touched = session.info.setdefault(_TOUCHED, set())
    pairs = {pair for pair in pending if pair[0] != "entry"}
    entry_ids = {pair[1] for pair in pending if pair[0] == "entry"}
    pending.clear()
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
    mark or a noted write); not the inner step each flush opens and closes."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_TOUCHED, None)
    elif transaction.nested:
        session.info.pop(_TOUCHED, None)
