"""Placements: the intern keeps their own, advisors see and correct every one."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role
from portfolio.placements.models import Placement
from tests.journal.helpers import csrf_token

GOOD = {"host_organisation": "Kiwi Design Studio", "country": "NZ", "city": "Auckland",
        "start_date": "2027-03-01", "end_date": "2027-06-25", "hours_per_week": "37.5",
        "timezone": "Pacific/Auckland", "work_language": "en"}


def placements(app):
    with app.app_context():
        return db.session.scalars(sa.select(Placement)).all()


def test_an_intern_sets_up_their_placement(app, client, login, make_member):
    intern = make_member(Role.intern, timezone="Pacific/Auckland")
    login(client, intern)
    page = client.get(f"/c/{intern.course_id}/placement").get_data(as_text=True)
    assert '<option selected value="Pacific/Auckland">' in page  # from the launch, editable
    assert "New Zealand" in page
    response = client.post(f"/c/{intern.course_id}/placement", data={**GOOD, "csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/c/{intern.course_id}/journal")
    (placement,) = placements(app)
    assert (placement.host_organisation, placement.country, str(placement.hours_per_week), placement.timezone) == \
        ("Kiwi Design Studio", "NZ", "37.50", "Pacific/Auckland")

    home = client.get(f"/c/{intern.course_id}/journal").get_data(as_text=True)
    assert home.count('class="week ') == 17 and "Kiwi Design Studio" in home


@pytest.mark.parametrize("change, message", [
    ({"end_date": "2027-02-01"}, "cannot be before the first day"),
    ({"country": "XX"}, "Not a valid choice"),
    ({"timezone": "Mars/Olympus_Mons"}, "Not a valid choice"),
    ({"hours_per_week": "200"}, "Between 1 and 80 hours"),
    ({"start_date": "someday"}, "Not a valid date value"),
    ({"host_organisation": ""}, "This field is required"),
])
def test_bad_input_keeps_what_was_typed(app, client, login, make_member, change, message):
    intern = make_member(Role.intern)
    login(client, intern)
    page = client.get(f"/c/{intern.course_id}/placement").get_data(as_text=True)
    data = {**GOOD, **change, "csrf_token": csrf_token(page)}
    response = client.post(f"/c/{intern.course_id}/placement", data=data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html and 'aria-invalid="true"' in html
    if data["host_organisation"]:
        assert 'value="Kiwi Design Studio"' in html
    assert placements(app) == []


def test_advisors_see_every_placement_and_correct_one(app, client, login, make_member, make_placement):
    intern = make_member(Role.intern, name="Lucía Fernández")
    other = make_member(Role.intern, course_id=intern.course_id, name="Li Wei")
    advisor = make_member(Role.advisor, course_id=intern.course_id)
    make_placement(intern, host="Start-up LA", country="US", timezone="America/Los_Angeles")
    login(client, advisor)
    listing = client.get(f"/c/{intern.course_id}/placements").get_data(as_text=True)
    assert "Start-up LA" in listing and "Li Wei" in listing and "No placement yet" in listing
    page = client.get(f"/c/{intern.course_id}/placements/{intern.user_id}/edit").get_data(as_text=True)
    response = client.post(f"/c/{intern.course_id}/placements/{intern.user_id}/edit",
                           data={**GOOD, "host_organisation": "Start-up LA Inc.", "country": "US",
                                 "timezone": "America/Los_Angeles", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert [p.host_organisation for p in placements(app)] == ["Start-up LA Inc."]
    assert client.get(f"/c/{intern.course_id}/placements/{advisor.user_id}/edit").status_code == 404  # not an intern
    assert other  # listed above


def test_interns_cannot_see_or_change_other_placements(client, login, make_member, make_placement):
    intern = make_member(Role.intern)
    other = make_member(Role.intern, course_id=intern.course_id)
    make_placement(other)
    login(client, intern)
    assert client.get(f"/c/{intern.course_id}/placements").status_code == 403
    assert client.get(f"/c/{intern.course_id}/placements/{other.user_id}/edit").status_code == 403


def test_changes_are_audited(app, client, login, make_member):
    from portfolio.audit.models import AuditEvent

    intern = make_member(Role.intern)
    login(client, intern)
    token = csrf_token(client.get(f"/c/{intern.course_id}/placement").get_data(as_text=True))
    client.post(f"/c/{intern.course_id}/placement", data={**GOOD, "csrf_token": token})
    client.post(f"/c/{intern.course_id}/placement", data={**GOOD, "city": "Wellington", "csrf_token": token})
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.like("placement.%"))
                                    .order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["placement.created", "placement.changed"]
        assert events[1].details["changes"] == {"city": "Wellington"}
