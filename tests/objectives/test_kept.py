"""The course's active objectives are kept by each app process under the course's
``objectives_stamp``, which every change to the framework moves in the same transaction:
the intern's home and the dashboard read them once, and show a change at once."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.journal.queries import active_objectives
from portfolio.objectives import operations
from portfolio.objectives.importers import ImportRow
from portfolio.objectives.models import Objective
from portfolio.people.models import Course, Membership, Role
from tests.statements import statements_run


@pytest.fixture
def advisor(make_member):
    return make_member(Role.advisor)


def stamp(app, course_id: int) -> str:
    with app.app_context():
        value = db.session.scalar(sa.select(Course.objectives_stamp).where(Course.id == course_id))
        db.session.remove()
    return value


def test_every_change_to_the_framework_moves_the_stamp(app, advisor, make_course, make_objective):
    course = advisor.course_id
    seen = [stamp(app, course)]
    first = make_objective(course, code="A.1")
    seen.append(stamp(app, course))
    make_objective(course, code="A.2")
    seen.append(stamp(app, course))
    other = make_course()

    def change(step):
        with app.app_context():
            by = db.session.get(Membership, advisor.membership_id)
            step(by, db.session.get(Objective, first))
            db.session.commit()
        seen.append(stamp(app, course))

    change(lambda by, o: operations.create_objective(by, code="A.3", title="Presents results"))
    change(lambda by, o: operations.update_objective(o, by, title="Writes weekly reports"))
    change(lambda by, o: operations.move_objective(o, by, "down"))
    change(lambda by, o: operations.retire_objective(o, by))
    change(lambda by, o: operations.reactivate_objective(o, by))
    change(lambda by, o: operations.import_objectives(
        [ImportRow(code="B.1", changes={"title": "Imported", "target": 2})], by, source="csv"))
    change(lambda by, o: operations.delete_objective(db.session.scalar(
        sa.select(Objective).where(Objective.course_id == course, Objective.code == "B.1")), by))
    assert len(set(seen)) == len(seen), seen  # a new value each time
    assert stamp(app, other) == ""  # another course's framework did not change


def test_a_change_rolled_back_leaves_what_is_kept_as_committed(app, advisor, make_objective):
    first = make_objective(advisor.course_id, code="A.1", title="Writes reports")
    with app.app_context():
        course = db.session.get(Course, advisor.course_id)
        committed = course.objectives_stamp
        assert [o.title for o in active_objectives(course)] == ["Writes reports"]
        operations.update_objective(db.session.get(Objective, first),
                                    db.session.get(Membership, advisor.membership_id), title="Never saved")
        assert course.objectives_stamp != committed  # the session sees its own change…
        assert [o.title for o in active_objectives(course)] == ["Never saved"]
        db.session.rollback()
        course = db.session.get(Course, advisor.course_id)
        assert course.objectives_stamp == committed  # …and what it kept under that stamp is never read again
        assert [o.title for o in active_objectives(course)] == ["Writes reports"]
        db.session.remove()


def test_the_intern_home_and_the_dashboard_read_the_objectives_once_and_show_a_change_at_once(
        app, make_client, login, advisor, make_member, make_objective, make_placement):
    course = advisor.course_id
    make_objective(course, code="COM.1", title="Adapts communication")
    intern = make_member(Role.intern, course_id=course)
    today = date.today()
    make_placement(intern, start=today - timedelta(weeks=3), end=today + timedelta(weeks=8))
    intern_client, advisor_client = login(make_client(), intern), login(make_client(), advisor)
    pages = ((intern_client, f"/c/{course}/journal"), (advisor_client, f"/c/{course}/cohort"))

    def read(client, path) -> tuple[str, list[str]]:
        with statements_run(app) as statements:
            response = client.get(path)
        assert response.status_code == 200
        return response.get_data(as_text=True), [s for s in statements if "FROM objective" in s]

    for client, path in pages:
        page, _ = read(client, path)
        assert "COM.1" in page
        page, objective_statements = read(client, path)  # kept: not read again
        assert "COM.1" in page and objective_statements == []

    with app.app_context():
        operations.create_objective(db.session.get(Membership, advisor.membership_id), code="REF.2",
                                    title="Reflects on assumptions")
        db.session.commit()
    read_again = 0
    for client, path in pages:
        page, objective_statements = read(client, path)
        assert "COM.1" in page and "REF.2" in page
        read_again += len(objective_statements)
    assert read_again == 1  # by the first page; the second finds them kept

    with app.app_context():
        by = db.session.get(Membership, advisor.membership_id)
        operations.retire_objective(db.session.scalar(sa.select(Objective).where(Objective.code == "COM.1")), by)
        db.session.commit()
    for client, path in pages:
        page, _ = read(client, path)
        assert "COM.1" not in page and "REF.2" in page


def test_the_week_form_offers_the_active_objectives_and_the_retired_ones_its_tasks_name(
        app, client, login, make_member, make_objective, make_placement, make_entry):
    intern = make_member(Role.intern)
    course = intern.course_id
    make_placement(intern, start=date(2027, 3, 1), end=date(2027, 5, 28))
    later = make_objective(course, code="B.2", title="Presents results")
    first = make_objective(course, code="A.1", title="Writes reports")
    old = make_objective(course, code="A.0", title="Old way", retired=True)
    make_objective(course, code="Z.9", title="Retired, unused", retired=True)
    with app.app_context():  # the framework's order: A.1 first
        for position, objective_id in enumerate((old, first, later), start=1):
            db.session.get(Objective, objective_id).position = position
        db.session.commit()
    entry = make_entry(intern, tasks=[("Kept the old way", "3", [old])])
    login(client, intern)

    def offered() -> list[str]:
        page = client.get(f"/c/{course}/entries/{entry}/edit").get_data(as_text=True)
        return re.findall(r'<label for="tasks-0-objectives-\d+">([^<]+)</label>', page)

    assert offered() == ["A.0 — Old way (retired)", "A.1 — Writes reports", "B.2 — Presents results"]
    with statements_run(app) as statements:
        assert offered() == ["A.0 — Old way (retired)", "A.1 — Writes reports", "B.2 — Presents results"]
    assert not [s for s in statements if "FROM objective" in s]  # kept, and the retired one came with the task
