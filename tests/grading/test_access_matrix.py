"""Every grading route × who asks: the course's advisor and admin, an advisor of another
course, an intern of the course, a supervisor of the course, and nobody signed in."""

from __future__ import annotations

import pytest

from portfolio.people.models import Role
from tests.grading.conftest import build_rubric
from tests.journal.helpers import assert_answer, request_as

WHO = ["advisor", "admin", "foreign_advisor", "intern", "supervisor", "anonymous"]
DENIED = {"foreign_advisor": 404, "intern": 403, "supervisor": 403, "anonymous": 401}


def allowed(status: int) -> dict:
    return {"advisor": status, "admin": status, **DENIED}


ROUTES = [
    ("GET", "/c/{course}/rubric", allowed(200)),
    ("GET", "/c/{course}/rubric/criteria/new", allowed(200)),
    ("POST", "/c/{course}/rubric/criteria/new", allowed(422)),
    ("GET", "/c/{course}/rubric/criteria/{criterion}/edit", allowed(200)),
    ("POST", "/c/{course}/rubric/criteria/{criterion}/edit", allowed(422)),
    ("POST", "/c/{course}/rubric/criteria/{criterion}/move", allowed(302)),
    ("GET", "/c/{course}/rubric/criteria/{criterion}/delete", allowed(200)),
    ("POST", "/c/{course}/rubric/criteria/{criterion}/delete", allowed(302)),
    ("GET", "/c/{course}/rubric/copy", allowed(200)),
    ("POST", "/c/{course}/rubric/copy", {**allowed(200), "admin": 404}),  # the admin advises no other course
    ("GET", "/c/{course}/grades", allowed(200)),
    ("GET", "/c/{course}/grades/{intern}", allowed(200)),
    ("POST", "/c/{course}/grades/{intern}", allowed(302)),
    ("GET", "/c/{course}/grades/{intern}/release", allowed(200)),
    ("POST", "/c/{course}/grades/{intern}/release", allowed(302)),
    ("GET", "/c/{course}/grades/release-all", allowed(200)),
    ("POST", "/c/{course}/grades/release-all", allowed(302)),
    ("POST", "/c/{course}/grades/{released_intern}/retry", allowed(302)),
    # the intern's own grade page: interns only (a draft shows as "not released yet")
    ("GET", "/c/{course}/grade", {"advisor": 403, "admin": 403, "foreign_advisor": 404, "intern": 200,
                                  "supervisor": 403, "anonymous": 401}),
]


@pytest.fixture
def world(app, klass, make_member, make_course):
    from portfolio.db import db
    from portfolio.people.models import Course, Membership

    with app.app_context():
        platform_id = db.session.get(Course, klass.course_id).platform_id
    source = make_course("Internship 2026", platform_id=platform_id)
    with app.app_context():
        membership = Membership(user_id=klass.advisor.user_id, course_id=source, role=Role.advisor)
        db.session.add(membership)
        db.session.commit()
        from tests.conftest import Member

        build_rubric(app, source, Member(klass.advisor.user_id, source, membership.id, Role.advisor))
    klass.save(chosen=("Accomplished", "Rich"))  # a complete draft for the intern
    klass.release(klass.save(intern=klass.other_intern, chosen=("Developing", "Thin")))
    people = {"advisor": klass.advisor, "intern": klass.intern,
              "admin": make_member(Role.admin, course_id=klass.course_id),
              "supervisor": make_member(Role.supervisor, course_id=klass.course_id),
              "foreign_advisor": make_member(Role.advisor), "anonymous": None}
    ids = {"course": klass.course_id, "intern": klass.intern.user_id, "criterion": klass.criteria[1],
           "released_intern": klass.other_intern.user_id, "source": source}
    return people, ids


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("method, path, expected", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access(app, make_client, login, world, who, method, path, expected):
    people, ids = world
    response = request_as(make_client, login, people, who, ids["course"], method, path.format(**ids),
                          {"direction": "up", "source_id": ids["source"], "action": "save", "title": ""})
    assert_answer(response, who, method, expected)


def test_an_intern_sees_their_released_grade_and_nothing_of_a_draft(app, make_client, login, world, klass):
    people, ids = world
    draft_page = login(make_client(), klass.intern).get(f"/c/{ids['course']}/grade").get_data(as_text=True)
    assert "has not released a grade yet" in draft_page
    assert "Accomplished" not in draft_page and "Well done." not in draft_page
    released_page = login(make_client(), klass.other_intern).get(f"/c/{ids['course']}/grade").get_data(as_text=True)
    assert "3 of 10 points" in released_page and "Developing" in released_page and "Well done." in released_page
    # the grading pages of their own grade stay closed to them
    client = login(make_client(), klass.other_intern)
    assert client.get(f"/c/{ids['course']}/grades/{klass.other_intern.user_id}").status_code == 403
