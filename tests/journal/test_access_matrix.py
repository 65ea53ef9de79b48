"""Every journal and placement route × who asks: the owner, another intern of the course,
the course's advisor, an advisor of another course, and nobody signed in."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.journal.models import EntryState
from portfolio.people.models import Role
from tests.journal.helpers import hash_of, token_for

WHO = ["owner", "other_intern", "advisor", "foreign_advisor", "anonymous"]

# (method, path template, expected status per person)
ROUTES = [
    ("GET", "/c/{course}/journal", {"owner": 200, "other_intern": 200, "advisor": 302, "foreign_advisor": 404, "anonymous": 401}),
    ("GET", "/c/{course}/interns/{intern}/journal", {"owner": 403, "other_intern": 403, "advisor": 200, "foreign_advisor": 404, "anonymous": 401}),
    ("GET", "/c/{course}/journal/weeks/2027-03-01", {"owner": 302, "other_intern": 200, "advisor": 403, "foreign_advisor": 404, "anonymous": 401}),
    ("POST", "/c/{course}/journal/weeks/2027-03-08/autosave", {"owner": 200, "other_intern": 409, "advisor": 403, "foreign_advisor": 404, "anonymous": 401}),
    ("GET", "/c/{course}/entries/{draft}", {"owner": 200, "other_intern": 403, "advisor": 200, "foreign_advisor": 404, "anonymous": 401}),
    # an advisor asking to edit is sent to the read-only page
    ("GET", "/c/{course}/entries/{draft}/edit", {"owner": 200, "other_intern": 403, "advisor": 302, "foreign_advisor": 404, "anonymous": 401}),
    ("POST", "/c/{course}/entries/{draft}/edit", {"owner": 302, "other_intern": 403, "advisor": 403, "foreign_advisor": 404, "anonymous": 401}),
    ("POST", "/c/{course}/entries/{draft}/submit", {"owner": 409, "other_intern": 403, "advisor": 403, "foreign_advisor": 404, "anonymous": 401}),
    ("POST", "/c/{course}/entries/{approved}/revise", {"owner": 302, "other_intern": 403, "advisor": 403, "foreign_advisor": 404, "anonymous": 401}),
    ("POST", "/c/{course}/entries/{submitted}/decide", {"owner": 403, "other_intern": 403, "advisor": 302, "foreign_advisor": 404, "anonymous": 401}),
    ("GET", "/c/{course}/placement", {"owner": 200, "other_intern": 200, "advisor": 403, "foreign_advisor": 404, "anonymous": 401}),
    ("GET", "/c/{course}/placements", {"owner": 403, "other_intern": 403, "advisor": 200, "foreign_advisor": 404, "anonymous": 401}),
    ("GET", "/c/{course}/placements/{intern}/edit", {"owner": 403, "other_intern": 403, "advisor": 200, "foreign_advisor": 404, "anonymous": 401}),
]


@pytest.fixture
def world(make_member, make_placement, make_entry, make_objective):
    owner = make_member(Role.intern)
    course = owner.course_id
    other = make_member(Role.intern, course_id=course)
    advisor = make_member(Role.advisor, course_id=course)
    foreign = make_member(Role.advisor)
    make_placement(owner, start=date(2027, 3, 1), end=date(2027, 4, 30))
    make_placement(other, start=date(2027, 3, 1), end=date(2027, 4, 30))
    objective = make_objective(course)
    make_entry(other, week_start=date(2027, 3, 8), state=EntryState.submitted)  # other_intern's autosave → 409
    ids = {
        "course": course, "intern": owner.user_id,
        "draft": make_entry(owner, week_start=date(2027, 3, 1), reflection="", tasks=[]),
        "approved": make_entry(owner, week_start=date(2027, 3, 15), state=EntryState.approved,
                               tasks=[("t", "1", [objective])]),
        "submitted": make_entry(owner, week_start=date(2027, 3, 22), state=EntryState.submitted,
                                tasks=[("t", "1", [objective])]),
    }
    return {"owner": owner, "other_intern": other, "advisor": advisor, "foreign_advisor": foreign, "anonymous": None}, ids


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("method, path, expected", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access(app, make_client, login, world, who, method, path, expected):
    people, ids = world
    client = make_client()
    token = ""
    if people[who] is not None:
        login(client, people[who])
        token = token_for(client, people[who].course_id)
    else:
        helper = login(make_client(), people["owner"])
        token = token_for(helper, ids["course"])  # a valid token from someone else's session
    url = path.format(**ids)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={"csrf_token": token, "decision": "approve", "reflection": "r",
                                          "content_hash": hash_of(app, ids["submitted"])})
    if who == "anonymous" and method == "POST":
        assert response.status_code in (400, 401)  # no session: the CSRF check or the sign-in check refuses
    else:
        assert response.status_code == expected[who], response.get_data(as_text=True)[:300]
