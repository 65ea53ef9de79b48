"""Saving an entry again with what it already holds (an autosave every few seconds, the
save that comes with a submit) writes no task; any change to a task writes them anew."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from portfolio.db import db
from portfolio.journal.models import Entry
from portfolio.journal.operations import TaskData, save_draft, start_entry
from portfolio.people.models import Membership, Role
from portfolio.placements.operations import placement_of
from tests.statements import statements_run


@pytest.fixture
def entry(app, make_member, make_placement, make_objective):
    intern = make_member(Role.intern)
    make_placement(intern, start=date(2027, 3, 1), end=date(2027, 5, 28))
    first, second = make_objective(intern.course_id, code="COM"), make_objective(intern.course_id, code="TEAM")
    with app.app_context():
        by = db.session.get(Membership, intern.membership_id)
        entry = start_entry(by, placement_of(intern.course_id, intern.user_id), date(2027, 3, 8))
        save_draft(entry, "A week.", [TaskData("Workshop", Decimal("6"), [first, second]),
                                      TaskData("Report", Decimal("2.5"), [second])], by=by)
        db.session.commit()
        yield {"app": app, "id": entry.id, "membership": intern.membership_id, "objectives": (first, second)}
        db.session.remove()


def save_again(entry, tasks, reflection="A week.") -> tuple[list[tuple], list[str]]:
    """Save in a session of its own; returns the tasks as stored and the task statements."""
    app = entry["app"]
    with app.app_context():
        by = db.session.get(Membership, entry["membership"])
        with statements_run(app) as statements:
            save_draft(db.session.get(Entry, entry["id"]), reflection, tasks, by=by, autosave=True)
            db.session.commit()
        stored = db.session.get(Entry, entry["id"])
        tasks = [(t.id, t.position, t.description, t.hours, sorted(o.id for o in t.objectives)) for t in stored.tasks]
        db.session.remove()
    return tasks, [s for s in statements if s.lstrip().upper().startswith(("INSERT", "DELETE")) and " task" in s]


def test_saving_what_is_there_writes_no_task(entry):
    first, second = entry["objectives"]
    same = [TaskData("Workshop ", Decimal("6.00"), [second, first, first]),
            TaskData("Report", Decimal("2.5"), [second])]
    before, _ = save_again(entry, same)
    after, written = save_again(entry, same)
    assert written == [] and after == before  # the same rows, ids and all


@pytest.mark.parametrize("change", ["description", "hours", "objectives", "order", "one fewer"])
def test_any_change_to_a_task_writes_them_anew(entry, change):
    first, second = entry["objectives"]
    tasks = {
        "description": [TaskData("Workshop with the client", Decimal("6"), [first, second]),
                        TaskData("Report", Decimal("2.5"), [second])],
        "hours": [TaskData("Workshop", Decimal("6.5"), [first, second]), TaskData("Report", Decimal("2.5"), [second])],
        "objectives": [TaskData("Workshop", Decimal("6"), [first]), TaskData("Report", Decimal("2.5"), [second])],
        "order": [TaskData("Report", Decimal("2.5"), [second]), TaskData("Workshop", Decimal("6"), [first, second])],
        "one fewer": [TaskData("Workshop", Decimal("6"), [first, second])],
    }[change]
    stored, written = save_again(entry, tasks)
    assert written
    assert [(t[2], t[3], t[4]) for t in stored] == [
        (t.description, t.hours, sorted(t.objective_ids)) for t in tasks]
