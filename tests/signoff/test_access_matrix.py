"""Every sign-off and audit route × supervisor, another intern's supervisor, the intern,
another intern, the advisor, another course's advisor, and nobody signed in."""

from __future__ import annotations

from datetime import date

import pytest

from portfolio.people.models import Role
from tests.journal.helpers import assert_answer, hash_of, request_as

WHO = ["intern", "other_intern", "advisor", "supervisor", "other_supervisor", "foreign_advisor", "anonymous"]
R = {"foreign_advisor": 404, "anonymous": 401}

ROUTES = [
    ("GET", "/c/{course}/supervisor",
     {"intern": 200, "other_intern": 200, "advisor": 403, "supervisor": 403, "other_supervisor": 403, **R}),
    ("GET", "/c/{course}/interns/{intern}/supervisor",
     {"intern": 200, "other_intern": 403, "advisor": 200, "supervisor": 403, "other_supervisor": 403, **R}),
    ("POST", "/c/{course}/interns/{intern}/supervisor/invite",
     {"intern": 422, "other_intern": 403, "advisor": 422, "supervisor": 403, "other_supervisor": 403, **R}),
    ("POST", "/c/{course}/interns/{intern}/supervisor/resend",
     {"intern": 302, "other_intern": 403, "advisor": 302, "supervisor": 403, "other_supervisor": 403, **R}),
    ("POST", "/c/{course}/interns/{intern}/supervisor/revoke",
     {"intern": 302, "other_intern": 403, "advisor": 302, "supervisor": 403, "other_supervisor": 403, **R}),
    ("POST", "/c/{course}/interns/{intern}/supervisor/end",
     {"intern": 302, "other_intern": 403, "advisor": 302, "supervisor": 403, "other_supervisor": 403, **R}),
    ("GET", "/c/{course}/review",
     {"intern": 403, "other_intern": 403, "advisor": 200, "supervisor": 200, "other_supervisor": 200, **R}),
    ("GET", "/c/{course}/entries/{submitted}",
     {"intern": 200, "other_intern": 403, "advisor": 200, "supervisor": 200, "other_supervisor": 403, **R}),
    ("POST", "/c/{course}/entries/{submitted}/decide",
     {"intern": 403, "other_intern": 403, "advisor": 302, "supervisor": 302, "other_supervisor": 403, **R}),
    ("POST", "/c/{course}/review/approve",
     {"intern": 403, "other_intern": 403, "advisor": 302, "supervisor": 302, "other_supervisor": 403, **R}),
    ("GET", "/c/{course}/interns/{intern}/audit",
     {"intern": 403, "other_intern": 403, "advisor": 200, "supervisor": 403, "other_supervisor": 403, **R}),
]


@pytest.fixture
def world(app, team, make_member, make_placement):
    from portfolio.db import db
    from portfolio.people.models import Membership
    from portfolio.signoff import operations

    other_intern = make_member(Role.intern, course_id=team.course_id)
    make_placement(other_intern, start=date(2027, 3, 1), end=date(2027, 5, 28))
    people = {"intern": team.intern, "other_intern": other_intern, "advisor": team.advisor,
              "foreign_advisor": make_member(Role.advisor), "anonymous": None}
    with app.app_context():
        for key, intern, email in (("supervisor", team.intern, "s@host.example"),
                                   ("other_supervisor", other_intern, "s2@host.example")):
            membership = db.session.get(Membership, intern.membership_id)
            invitation = operations.invite_supervisor(membership, name=key, email=email, locale="en", by=membership)
            supervisor = invitation.supervision.supervisor
            db.session.commit()
            own = db.session.scalar(db.select(Membership).where(Membership.user_id == supervisor.id))
            from tests.conftest import Member

            people[key] = Member(supervisor.id, team.course_id, own.id, Role.supervisor)
    ids = {"course": team.course_id, "intern": team.intern.user_id, "submitted": team.submitted_entry()}
    return people, ids


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("method, path, expected", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access(app, make_client, login, world, who, method, path, expected):
    people, ids = world
    submitted = ids["submitted"]
    response = request_as(make_client, login, people, who, ids["course"], method, path.format(**ids), {
        "decision": "approve", "entry_ids": [str(submitted)], "content_hash": hash_of(app, submitted),
        f"content_hash-{submitted}": hash_of(app, submitted)})
    assert_answer(response, who, method, expected)
