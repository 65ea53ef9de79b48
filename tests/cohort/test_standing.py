"""The dashboard keeps each intern's figures between views: every way the journal or the
placement changes makes them out of date, a new week does too, and a result computed
from a journal that changed meanwhile is never kept."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portfolio.cohort import standing, summary
from portfolio.cohort.models import InternStanding
from portfolio.db import db, utcnow
from portfolio.journal.models import Entry, EntryState, Task
from portfolio.people.models import Course, Membership, Role, User
from portfolio.placements.models import Placement
from tests.cohort.conftest import ZONE, this_monday, weeks_ago


@pytest.fixture
def world(app, make_member, make_objective, make_placement, make_entry):
    ana = make_member(Role.intern, name="Ana Silva")
    course_id = ana.course_id
    ben = make_member(Role.intern, course_id=course_id, name="Ben Okoro")
    advisor = make_member(Role.advisor, course_id=course_id)
    objective = make_objective(course_id, code="COM", target=3)
    for member in (ana, ben):
        make_placement(member, start=weeks_ago(3), end=this_monday() + timedelta(weeks=4), timezone=ZONE,
                       hours_per_week="10")
    waiting = make_entry(ana, week_start=weeks_ago(2), state=EntryState.submitted, tasks=[("Wrote", "4", [objective])])
    return SimpleNamespace(course=course_id, ana=ana, ben=ben, advisor=advisor, objective=objective, waiting=waiting)


def view(app, course_id: int, now=None) -> tuple[int, dict[int, summary.InternRow]]:
    """One dashboard read, committed as the page commits it: (interns computed, rows by id)."""
    from portfolio.journal import progress
    from portfolio.journal.queries import entries_of_intern
    from portfolio.placements.operations import placement_of

    with app.test_request_context():
        refreshed = summary.refresh(course_id, now)
        db.session.commit()
        rows = summary.listing(course_id, summary.objectives_of(db.session.get(Course, course_id))).rows
        for row in rows:  # kept or computed, the figures are the journal page's
            entries = list(db.session.scalars(entries_of_intern(course_id, row.user.id)))
            expected = progress.compute(placement_of(course_id, row.user.id), entries, [], now=now)
            assert (row.approved, row.submitted, row.missing, row.hours_logged, row.hours_expected) == (
                expected.count(progress.WeekStatus.approved), expected.count(progress.WeekStatus.submitted),
                len(expected.missing), expected.hours_logged, expected.hours_expected_to_date), row.name
        return refreshed, {r.user.id: r for r in rows}


def test_a_view_computes_only_the_interns_whose_journal_changed(app, world, make_entry):
    assert view(app, world.course)[0] == 2
    refreshed, rows = view(app, world.course)
    assert refreshed == 0 and rows[world.ana.user_id].submitted == 1 and rows[world.ana.user_id].coverage == {
        world.objective: 1}
    make_entry(world.ben, week_start=weeks_ago(1), state=EntryState.submitted, tasks=[("Met", "6", [])])
    refreshed, rows = view(app, world.course)
    assert refreshed == 1 and rows[world.ben.user_id].submitted == 1
    assert rows[world.ben.user_id].hours_logged == Decimal(6)


def test_a_decision_changes_the_figures(app, world):
    from portfolio.signoff.models import DecisionKind
    from portfolio.signoff.operations import content_hash, decide

    view(app, world.course)
    with app.app_context():
        entry = db.session.get(Entry, world.waiting)
        advisor = db.session.get(Membership, world.advisor.membership_id)
        decide(entry, DecisionKind.approved, by=advisor, shown_hash=content_hash(entry), via="web")
        db.session.commit()
    refreshed, rows = view(app, world.course)
    assert refreshed == 1
    assert (rows[world.ana.user_id].approved, rows[world.ana.user_id].submitted) == (1, 0)
    assert rows[world.ana.user_id].waiting_since is None


def test_a_changed_task_or_placement_changes_the_figures(app, world):
    view(app, world.course)
    with app.app_context():  # only the task changes: its objectives and hours
        task = db.session.scalar(sa.select(Task).where(Task.entry_id == world.waiting))
        task.objectives = []
        task.hours = Decimal("7.5")
        db.session.commit()
    refreshed, rows = view(app, world.course)
    assert refreshed == 1
    assert rows[world.ana.user_id].coverage == {} and rows[world.ana.user_id].hours_logged == Decimal("7.5")
    with app.app_context():
        placement = db.session.scalar(sa.select(Placement).where(Placement.intern_id == world.ben.user_id))
        placement.hours_per_week = Decimal(20)
        db.session.commit()
    refreshed, rows = view(app, world.course)
    assert refreshed == 1 and rows[world.ben.user_id].hours_expected == Decimal(80)


def test_a_new_week_makes_every_placement_count_again(app, world):
    _, before = view(app, world.course)
    next_week = utcnow() + timedelta(days=7)
    refreshed, after = view(app, world.course, now=next_week)
    assert refreshed == 2
    assert after[world.ben.user_id].missing == before[world.ben.user_id].missing + 1
    assert after[world.ben.user_id].hours_expected == before[world.ben.user_id].hours_expected + 10
    assert view(app, world.course, now=next_week)[0] == 0


def test_figures_from_a_journal_that_changed_meanwhile_are_not_kept(app, world):
    view(app, world.course)
    with app.app_context():
        connection = db.session.connection()
        read = db.session.scalar(sa.select(InternStanding.version).where(
            InternStanding.intern_id == world.ana.user_id))
        standing.touch(connection, [(world.course, world.ana.user_id)])  # a write commits in between
        stale = dict(valid_until=None, approved=99, submitted=0, missing=0, waiting_since=None,
                     hours_logged=Decimal(0), hours_expected=Decimal(0), coverage={})
        standing.store(connection, world.course, {world.ana.user_id: (read, stale)})
        db.session.commit()
        row = db.session.get(InternStanding, (world.course, world.ana.user_id))
        assert row.approved != 99 and row.computed_version != row.version
    refreshed, rows = view(app, world.course)
    assert refreshed == 1 and rows[world.ana.user_id].approved == 0


def test_erasure_clears_the_kept_figures(app, world):
    from portfolio.privacy.operations import erase_person

    view(app, world.course)
    with app.app_context():
        erase_person(db.session.get(User, world.ana.user_id), via="cli")
        db.session.commit()
        row = db.session.get(InternStanding, (world.course, world.ana.user_id))
        assert (row.submitted, row.hours_logged, row.coverage, row.computed_version) == (0, 0, {}, None)
    refreshed, rows = view(app, world.course)
    assert refreshed == 1 and rows[world.ana.user_id].submitted == 0


def test_the_scheduler_keeps_the_figures_current(app, world, make_entry):
    from portfolio import jobs

    with app.app_context():
        jobs.refresh_cohorts()
    assert view(app, world.course)[0] == 0  # the advisor computes nothing
    make_entry(world.ben, week_start=weeks_ago(1), state=EntryState.submitted, tasks=[("Met", "6", [])])
    with app.app_context():
        jobs.refresh_cohorts()
    refreshed, rows = view(app, world.course)
    assert refreshed == 0 and rows[world.ben.user_id].submitted == 1


def test_a_view_that_cannot_store_the_figures_still_answers(app, world, client, login, monkeypatch):
    """A writer holds an intern's row: the page answers at once with the figures kept so
    far, and a later view stores the new ones. On PostgreSQL the writer is a real open
    transaction and the view stores every other intern's figures, leaving the held row to
    the writer; SQLite locks the whole file, so there the refusal is the error its busy
    timeout would end in, and nothing is stored."""
    with app.app_context():
        engine = db.engine
    writer = engine.connect()
    try:
        if engine.dialect.name == "postgresql":
            writer.execute(sa.update(InternStanding).where(InternStanding.intern_id == world.ana.user_id)
                           .values(version=InternStanding.version))  # the row stays locked until rollback
        else:
            def held(connection, *args, **kwargs):
                connection.execute(sa.text("SELECT 1"))
                raise sa.exc.OperationalError("INSERT INTO intern_standing …", {}, Exception("database is locked"))

            monkeypatch.setattr(standing, "store", held)
        postgres = engine.dialect.name == "postgresql"
        with app.test_request_context():
            started = time.monotonic()
            assert summary.refresh(world.course) == (1 if postgres else 0)  # Ben's, not Ana's held row
            assert time.monotonic() - started < summary.STORE_PATIENCE_MS / 1000  # nobody waited for the writer
            assert db.session.execute(sa.text("SELECT 1")).scalar() == 1  # the transaction goes on
            db.session.commit()
        login(client, world.advisor)
        assert client.get(f"/c/{world.course}/cohort").status_code == 200
    finally:
        writer.rollback()
        writer.close()
        monkeypatch.undo()
    assert view(app, world.course)[0] == (1 if postgres else 2)


def test_the_command_computes_what_changed(app, world, make_entry):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["cohort", "refresh"])
    assert result.exit_code == 0 and "interns whose figures were computed: 2" in result.output
    make_entry(world.ben, week_start=weeks_ago(1), state=EntryState.submitted, tasks=[("Met", "6", [])])
    assert "interns whose figures were computed: 1" in runner.invoke(args=["cohort", "refresh"]).output
    assert view(app, world.course)[0] == 0


def _version(course_id: int, intern_id: int) -> int:
    return db.session.scalar(sa.select(InternStanding.version).where(
        InternStanding.course_id == course_id, InternStanding.intern_id == intern_id)) or 0


def test_a_transaction_marks_each_intern_it_wrote_once_as_it_commits(app, world):
    with app.app_context():
        ana, ben = _version(world.course, world.ana.user_id), _version(world.course, world.ben.user_id)
        entry = db.session.get(Entry, world.waiting)
        for hours in ("5", "6", "7"):  # three flushes of the same intern's journal
            entry.tasks[0].hours = Decimal(hours)
            db.session.flush()
        assert _version(world.course, world.ana.user_id) == ana  # the mark comes with the commit
        with db.session.begin_nested() as savepoint:  # a write undone with its savepoint
            db.session.add(Task(entry_id=world.waiting, position=5, description="undone", hours=Decimal(1)))
            db.session.flush()
            savepoint.rollback()
        db.session.commit()
        assert _version(world.course, world.ana.user_id) == ana + 1
        placement = db.session.scalar(sa.select(Placement).where(Placement.intern_id == world.ben.user_id))
        placement.hours_per_week = Decimal(12)
        db.session.flush()
        db.session.rollback()  # a transaction that does not commit marks nobody
        assert _version(world.course, world.ben.user_id) == ben
    assert view(app, world.course)[1][world.ana.user_id].hours_logged == Decimal(7)


def test_a_listed_row_is_read_by_position_in_the_order_the_statement_names():
    """The dashboard reads its rows by position: each column lands in its own field."""
    from portfolio.cohort import queries
    from portfolio.grading.models import DeliveryState, GradeState

    now = utcnow()
    values = {
        "id": 7, "name": "Aiko", "email": "aiko@example.org", "last_seen_at": now - timedelta(days=1),
        "placement_id": 3, "host_organisation": "Nagoya Works", "city": "Nagoya", "country": "JP",
        "start_date": this_monday() - timedelta(weeks=4), "end_date": this_monday() + timedelta(weeks=4),
        "timezone": ZONE, "hours_per_week": Decimal(35), "grade_state": GradeState.released,
        "delivery_state": DeliveryState.failed, "version": 5, "computed_version": 4,
        "valid_until": now + timedelta(days=2), "approved": 2, "submitted": 1, "missing": 3,
        "waiting_since": now - timedelta(days=3), "hours_logged": Decimal("61.5"),
        "hours_expected": Decimal(140), "coverage": '{"11": 4}',
    }
    assert set(values) == set(queries.INTERN_FIELDS)
    row = summary._kept_row(tuple(values[name] for name in queries.INTERN_FIELDS), now)

    assert row.user == summary.Person(7, "Aiko", "aiko@example.org", values["last_seen_at"])
    assert row.placement == summary.Place("Nagoya Works", "Nagoya", "JP", values["start_date"],
                                          values["end_date"], ZONE, Decimal(35))
    assert (row.grade, row.sync) == (summary.GradeStatus.released, summary.SyncStatus.failed)
    assert (row.approved, row.submitted, row.missing) == (2, 1, 3)
    assert (row.waiting_since, row.hours_logged, row.hours_expected) == (
        values["waiting_since"], Decimal("61.5"), Decimal(140))
    assert row.coverage == {11: 4}
    assert row.out_of_date  # version 5, computed from 4


def test_a_page_that_keeps_what_it_computed_reads_the_person_once(app, world, client, login, make_entry):
    from tests.statements import statements_run

    login(client, world.advisor)
    assert client.get(f"/c/{world.course}/cohort").status_code == 200  # computes and keeps both interns
    make_entry(world.ben, week_start=weeks_ago(1), state=EntryState.submitted, tasks=[("Met", "6", [])])
    with statements_run(app) as statements:
        page = client.get(f"/c/{world.course}/cohort").get_data(as_text=True)
    assert "Ben Okoro" in page
    assert sum(s.lstrip().upper().startswith("INSERT INTO INTERN_STANDING") for s in statements) == 1  # Ben, kept
    person = re.compile(r'SELECT "?user"?\.id, "?user"?\.platform_id')  # the whole person, not a listed row
    assert sum(bool(person.match(s.lstrip())) for s in statements) == 1  # at sign-in, not again after the commit
