"""Names and Role Provisioning against the sandbox LMS over real HTTP: everyone enrolled,
all pages, roles translated once (Moodle's short names, Canvas's URIs), and inactive
enrolments marked."""

from __future__ import annotations

import pytest

from lti import nrps, tokens
from lti.models import Platform
from lti.sandbox import platform as sandbox
from lti.sandbox import services as sandbox_services
from portfolio import lms
from portfolio.db import db
from portfolio.lms import DeliveryDeferred, RosterMember
from portfolio.people.models import Role
from tests.lti.advantage import (  # noqa: F401  (fixtures)
    clean_sandbox_services, course_of, launch, outgoing, service_calls, token_requests,
)

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
EXPECTED_ROLES = {"amara": Role.intern, "lucia": Role.intern, "wei": Role.intern, "anon": Role.intern,
                  "helen": Role.advisor, "tomas": Role.advisor, "mentor": Role.supervisor, "admin": Role.admin}


def roster_by_key(shape: str) -> dict[str, RosterMember]:
    members = lms.current().fetch_roster(course_of(shape))
    subs = {sandbox.sub_for(p, shape): p.key for p in sandbox.PEOPLE}
    assert len({m.sub for m in members}) == len(members)
    return {subs[m.sub]: m for m in members}


@pytest.mark.parametrize("shape", sandbox.SHAPES)
def test_the_roster_lists_everyone_enrolled_even_those_who_never_launched(app, make_client, shape):
    launch(make_client, shape, "helen")
    with app.app_context():
        roster = roster_by_key(shape)
    assert {key: m.role for key, m in roster.items()} == EXPECTED_ROLES  # the guest is not enrolled
    assert roster["wei"].name == "李伟 (Li Wei)" and roster["wei"].email == "li.wei@student.example.edu"
    assert roster["anon"].name is None and roster["anon"].email is None
    assert all(m.active for m in roster.values())


def test_moodle_s_roster_uses_short_role_names(app, make_client):
    launch(make_client, "moodle", "helen")
    with app.app_context():
        course = course_of("moodle")
        response = tokens.service_request(db.session.get(Platform, course.platform_id), [nrps.SCOPE], "GET",
                                          nrps.memberships_url(course), what="the roster",
                                          headers={"Accept": nrps.CONTAINER_TYPE})
    assert response.headers["Content-Type"] == nrps.CONTAINER_TYPE
    roles = {m["user_id"]: m["roles"] for m in response.json()["members"]}
    assert roles["100"] == ["Learner"] and roles["104"] == ["Instructor"]


def test_every_page_is_fetched(app, make_client, outgoing, monkeypatch):
    monkeypatch.setitem(app.config, "LTI_NRPS_PAGE_SIZE", 3)
    launch(make_client, "canvas", "helen")
    with app.app_context():
        roster = roster_by_key("canvas")
    assert set(roster) == set(EXPECTED_ROLES)
    assert [path for _, path in service_calls(outgoing)] == ["/sandbox/canvas/courses/internship-2026/memberships"] * 3
    assert token_requests(outgoing) == 1


def test_inactive_and_deleted_enrolments_are_not_active(app, make_client):
    sandbox_services.member_status.update(lucia="Inactive", wei="Deleted")
    launch(make_client, "moodle", "helen")
    with app.app_context():
        roster = roster_by_key("moodle")
    assert {key for key, m in roster.items() if not m.active} == {"lucia", "wei"}


def test_a_roster_service_that_is_down_means_try_later(app, make_client):
    launch(make_client, "canvas", "helen")
    sandbox_services.inject("503")
    with app.app_context():
        with pytest.raises(DeliveryDeferred) as deferred:
            lms.current().fetch_roster(course_of("canvas"))
    assert deferred.value.status == 503


@pytest.mark.parametrize("roles, role", [
    (["Learner"], Role.intern),
    (["Instructor"], Role.advisor),
    (["TeachingAssistant"], Role.advisor),
    (["Mentor"], Role.supervisor),
    ([LIS + "membership#Learner"], Role.intern),
    ([LIS + "membership#Instructor#TeachingAssistant"], Role.advisor),
    ([LIS + "membership/Instructor#TeachingAssistant", LIS + "membership#Instructor"], Role.advisor),
    (["urn:lti:role:ims/lis/Learner"], Role.intern),
    (["urn:lti:role:ims/lis/Instructor/TeachingAssistant"], Role.advisor),
    ([LIS + "institution/person#Administrator"], Role.admin),
    ([LIS + "institution/person#Student"], None),
    (["Guest"], None),
    ([], None),
])
def test_roster_roles_are_translated_once(roles, role):
    assert nrps.to_member({"user_id": "7", "roles": roles}).role is role


@pytest.mark.parametrize("member, expected", [
    ({"user_id": " 42 ", "name": "Ana Lima", "email": "ana@example.edu", "roles": ["Learner"]},
     RosterMember("42", "Ana Lima", "ana@example.edu", Role.intern, True)),
    ({"user_id": "43", "given_name": "Bo", "family_name": "Chen", "roles": ["Learner"], "status": "Inactive"},
     RosterMember("43", "Bo Chen", None, Role.intern, False)),
    ({"user_id": "44", "roles": "Learner", "status": "Deleted"}, RosterMember("44", None, None, None, False)),
])
def test_members_are_read_defensively(member, expected):
    assert nrps.to_member(member) == expected


@pytest.mark.parametrize("member", [{}, {"user_id": ""}, {"user_id": 7}, "not a member"])
def test_a_member_that_names_nobody_is_skipped(member):
    assert nrps.to_member(member) is None
