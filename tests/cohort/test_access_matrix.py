"""Every cohort route × the course's advisor and admin, an advisor of another course, an
intern, a supervisor, and nobody signed in."""

from __future__ import annotations

import pytest

from portfolio.people.models import Role
from tests.journal.helpers import token_for

WHO = ["advisor", "admin", "foreign_advisor", "intern", "supervisor", "anonymous"]
R = {"foreign_advisor": 404, "intern": 403, "supervisor": 403, "anonymous": 401}

ROUTES = [
    ("GET", "/c/{course}/cohort", {"advisor": 200, "admin": 200, **R}),
    ("GET", "/c/{course}/cohort.csv", {"advisor": 200, "admin": 200, **R}),
    ("POST", "/c/{course}/cohort/roster", {"advisor": 302, "admin": 302, **R}),
]


@pytest.fixture
def world(make_member, fake_lms):
    fake_lms(supported=False)
    intern = make_member(Role.intern)
    course = intern.course_id
    return {"intern": intern, "advisor": make_member(Role.advisor, course_id=course),
            "admin": make_member(Role.admin, course_id=course),
            "supervisor": make_member(Role.supervisor, course_id=course),
            "foreign_advisor": make_member(Role.advisor), "anonymous": None}, {"course": course}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("method, path, expected", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access(make_client, login, world, who, method, path, expected):
    people, ids = world
    client = make_client()
    if people[who] is not None:
        login(client, people[who])
        token = token_for(client, people[who].course_id)
    else:
        token = token_for(login(make_client(), people["intern"]), ids["course"])
    url = path.format(**ids)
    response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": token})
    if who == "anonymous" and method == "POST":
        assert response.status_code in (400, 401)
    else:
        assert response.status_code == expected[who], response.get_data(as_text=True)[:300]
