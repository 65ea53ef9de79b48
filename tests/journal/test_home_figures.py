"""The journal's home adds its figures up in SQL and plain rows (``queries.revision_rows``,
``progress.revisions_from_rows``, ``progress.compute_from_revisions``): they must equal
``progress.compute`` over the entries loaded with their tasks, week by week."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.journal import progress
from portfolio.journal.models import EntryState
from portfolio.journal.queries import active_objective_rows, entries_of_intern, revision_rows
from portfolio.objectives.models import Objective
from portfolio.people.models import Role
from portfolio.placements.operations import placement_of


def both(intern, now: datetime):
    """(compute over entities, compute_from_revisions over rows) for one intern."""
    placement = placement_of(intern.course_id, intern.user_id)
    entries = list(db.session.scalars(entries_of_intern(intern.course_id, intern.user_id)))
    objectives = list(db.session.scalars(
        sa.select(Objective).where(Objective.course_id == intern.course_id, Objective.retired_at.is_(None))
        .order_by(Objective.position, Objective.code)))
    rows = db.session.connection().execute(revision_rows(), {"course_id": intern.course_id,
                                                             "intern_id": intern.user_id}).all()
    objective_rows = db.session.connection().execute(active_objective_rows(), {"course_id": intern.course_id}).all()
    return (progress.compute(placement, entries, objectives, now=now),
            progress.compute_from_revisions(placement, progress.revisions_from_rows(rows), objective_rows, now=now))


def figures(summary: progress.Progress) -> dict:
    return {
        "weeks": [(w.start, w.status, w.is_current, w.is_past, w.entry.id if w.entry else None,
                   w.approved.id if w.approved else None, w.hours) for w in summary.weeks],
        "coverage": [(c.objective.id, c.objective.code, c.objective.title, c.objective.target,
                      c.approved, c.submitted, c.percent, c.pending_percent, c.covered) for c in summary.coverage],
        "hours": (summary.hours_logged, summary.hours_approved, summary.hours_expected_to_date,
                  summary.hours_expected_total),
        "counts": [summary.count(s) for s in progress.WeekStatus],
    }


@pytest.fixture
def journal(make_member, make_objective, make_placement, make_entry):
    """A placement of twelve weeks, 1 March to 21 May 2027, with one week of each kind."""
    intern = make_member(Role.intern)
    com = make_objective(intern.course_id, code="COM", target=2)
    team = make_objective(intern.course_id, code="TEAM", target=3)
    old = make_objective(intern.course_id, code="OLD", retired=True)
    make_placement(intern, start=date(2027, 3, 1), end=date(2027, 5, 21), timezone="Europe/Berlin")
    week = {n: date(2027, 3, 1) + timedelta(weeks=n) for n in range(12)}
    # 1 March: approved, a task serving both objectives and one serving COM.
    make_entry(intern, week_start=week[0], state=EntryState.approved,
               tasks=[("a", "8", [com, team]), ("b", "4.5", [com])])
    # 8 March: nothing at all (missing).
    # 15 March: an empty draft (missing once the week is over).
    make_entry(intern, week_start=week[2], state=EntryState.draft, reflection="")
    # 22 March: a draft with a reflection and no task (a draft, not missing).
    make_entry(intern, week_start=week[3], state=EntryState.draft, reflection="Only words.")
    # 29 March: approved, then revised and submitted again with other tasks.
    make_entry(intern, week_start=week[4], state=EntryState.approved, tasks=[("c", "6", [team])])
    make_entry(intern, week_start=week[4], state=EntryState.submitted, revision=2,
               tasks=[("c", "7", [team, com]), ("d", "1.25", [])])
    # 5 April: sent back.
    make_entry(intern, week_start=week[5], state=EntryState.changes_requested, tasks=[("e", "3", [com])])
    # 12 April: approved, then an empty new revision (still a draft: the week was approved).
    make_entry(intern, week_start=week[6], state=EntryState.approved, tasks=[("f", "2", [team])])
    make_entry(intern, week_start=week[6], state=EntryState.draft, revision=2, reflection="")
    # 19 April: submitted, a task serving a retired objective.
    make_entry(intern, week_start=week[7], state=EntryState.submitted, tasks=[("g", "5", [old, com])])
    # 26 April: approved, a task serving no objective.
    make_entry(intern, week_start=week[8], state=EntryState.approved, tasks=[("h", "9", [])])
    # 3 May: submitted, the current week in most cases below.
    make_entry(intern, week_start=week[9], state=EntryState.submitted, tasks=[("i", "4", [team])])
    # 10 May: an empty draft started ahead of time; 17 May: nothing (open).
    make_entry(intern, week_start=week[10], state=EntryState.draft, reflection="")
    return intern, week


@pytest.mark.parametrize("now", [
    datetime(2027, 2, 1, 12, 0, tzinfo=timezone.utc),  # before the placement: every week is ahead
    datetime(2027, 3, 17, 12, 0, tzinfo=timezone.utc),  # the empty draft's own week
    datetime(2027, 5, 5, 12, 0, tzinfo=timezone.utc),  # the week of 3 May
    datetime(2027, 5, 9, 22, 30, tzinfo=timezone.utc),  # Sunday in UTC, already Monday 10 May in Berlin
    datetime(2027, 9, 1, 12, 0, tzinfo=timezone.utc),  # after the placement: every week is over
], ids=["before", "early", "during", "zone", "after"])
def test_the_homes_figures_equal_compute(app, journal, now):
    intern, _week = journal
    with app.app_context():
        expected, actual = both(intern, now)
        assert figures(actual) == figures(expected)


def test_the_cases_are_the_ones_meant(app, journal):
    intern, week = journal
    with app.app_context():
        _expected, actual = both(intern, datetime(2027, 5, 5, 12, 0, tzinfo=timezone.utc))
    status = {w.start: w.status for w in actual.weeks}
    assert status[week[1]] is status[week[2]] is progress.WeekStatus.missing
    assert status[week[3]] is status[week[6]] is status[week[10]] is progress.WeekStatus.draft
    assert status[week[4]] is progress.WeekStatus.submitted
    assert status[week[5]] is progress.WeekStatus.changes_requested
    assert status[week[11]] is progress.WeekStatus.open
    assert [w.start for w in actual.weeks if w.is_current] == [week[9]]
    coverage = {c.objective.code: (c.approved, c.submitted) for c in actual.coverage}
    # COM: 2 approved (1 March), waiting: 29 March's revision 2 and 19 April; TEAM: 1 March,
    # 29 March's approved revision 1 and 12 April approved; waiting 29 March and 3 May.
    assert coverage == {"COM": (2, 2), "TEAM": (3, 2)}
    assert actual.hours_logged == Decimal("41.75")  # 12.5 + 8.25 + 3 + 5 + 9 + 4


def test_no_entries_and_no_placement(app, make_member, make_objective, make_placement):
    intern = make_member(Role.intern)
    make_objective(intern.course_id, code="COM")
    with app.app_context():
        expected, actual = both(intern, datetime(2027, 4, 1, tzinfo=timezone.utc))
        assert figures(actual) == figures(expected) and actual.weeks == []
    make_placement(intern)
    with app.app_context():
        expected, actual = both(intern, datetime(2027, 4, 1, tzinfo=timezone.utc))
        assert figures(actual) == figures(expected)
        assert {w.status for w in actual.weeks} == {progress.WeekStatus.missing, progress.WeekStatus.open}


def test_the_advisors_view_links_each_started_week_to_its_newest_revision(app, client, login, journal, make_member):
    intern, week = journal
    advisor = make_member(Role.advisor, course_id=intern.course_id)
    login(client, advisor)
    page = client.get(f"/c/{intern.course_id}/interns/{intern.user_id}/journal").get_data(as_text=True)
    with app.app_context():
        _expected, actual = both(intern, None)
    for w in actual.weeks:
        if w.entry is not None:
            assert f'href="/c/{intern.course_id}/entries/{w.entry.id}"' in page
    assert page.count("<span>Week of ") == sum(1 for w in actual.weeks if w.entry is None)
    assert "↩</span> sent back" in page and "⏳</span> submitted" in page and "12.5 h" in page
