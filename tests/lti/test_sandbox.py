"""Full launches through the sandbox LMS: the browser goes to the tool's login, the tool
sends it to the sandbox's authorization endpoint, the sandbox posts a signed id_token
back, and the tool fetches the sandbox's key set over HTTP to verify it."""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa
from flask_babel import force_locale, gettext

from lti.sandbox import platform as sandbox
from portfolio.db import db
from portfolio.extensions import normalise_locale
from portfolio.people.models import Membership, Role, User

EXPECTED = {
    "amara": (Role.intern, "My internship journal"),
    "anon": (Role.intern, "My internship journal"),
    "helen": (Role.advisor, "Cohort"),
    "tomas": (Role.advisor, "Cohort"),
    "mentor": (Role.supervisor, "Review queue"),
    "admin": (Role.admin, "Administration"),
}


def sandbox_launch(client, shape: str, person: str):
    """Do what the browser does inside the sandbox's iframe; return the last response."""
    page = client.get(f"/sandbox/launch/{shape}/{person}")
    assert page.status_code == 200
    login_url = unescape(re.search(r'<iframe[^>]+src="([^"]+)"', page.get_data(as_text=True)).group(1))
    to_platform = client.get(login_url)
    if shape == "canvas":  # platform storage offered: the page stores the value, then goes on
        assert to_platform.status_code == 200, to_platform.get_data(as_text=True)
        onward = unescape(re.search(r'data-continue-url="([^"]+)"', to_platform.get_data(as_text=True)).group(1))
    else:
        assert to_platform.status_code == 302, to_platform.get_data(as_text=True)
        onward = to_platform.headers["Location"]
    form_post = client.get(onward)
    assert form_post.status_code == 200, form_post.get_data(as_text=True)
    html = form_post.get_data(as_text=True)
    action = unescape(re.search(r'<form method="post" action="([^"]+)"', html).group(1))
    fields = {unescape(n): unescape(v) for n, v in re.findall(r'name="([^"]+)" value="([^"]*)"', html)}
    assert set(fields) == ({"id_token", "state", "lti_storage_target"} if shape == "canvas" else {"id_token", "state"})
    return client.post(action, data=fields)


@pytest.mark.parametrize("shape", sandbox.SHAPES)
@pytest.mark.parametrize("person", sorted(EXPECTED))
def test_full_launch_per_role_and_lms_shape(app, client, shape, person):
    role, heading = EXPECTED[person]
    response = sandbox_launch(client, shape, person)
    assert response.status_code == 302, response.get_data(as_text=True)
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert home.status_code == 200
    language = normalise_locale(sandbox.PEOPLE_BY_KEY[person].locale) or "en"
    with app.test_request_context(), force_locale(language):
        heading = gettext(heading)  # each person lands on their page, in their LMS's language
    assert f"<h1>{heading}" in home.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.lti_sub == sandbox.sub_for(sandbox.PEOPLE_BY_KEY[person], shape)))
        assert user is not None and user.memberships[0].role is role
        if person == "anon":
            assert user.name is None and user.email is None


def test_a_person_without_a_role(client):
    response = sandbox_launch(client, "moodle", "guest")
    assert response.status_code == 200
    assert "no role in this course" in response.get_data(as_text=True)


def test_the_canvas_shape_carries_timezone_and_locale(app, client):
    sandbox_launch(client, "canvas", "wei")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.name == "李伟 (Li Wei)"))
        assert (user.locale, user.timezone) == ("zh-Hans", "Europe/Berlin")


def test_an_intern_cannot_open_the_admin_pages(app, client):
    response = sandbox_launch(client, "moodle", "amara")
    course_path = response.headers["Location"]
    assert client.get(course_path + "admin/platforms").status_code == 403


def test_the_admin_sees_platforms_and_rotates_keys(app, client):
    response = sandbox_launch(client, "moodle", "admin")
    course_path = response.headers["Location"]
    page = client.get(course_path + "admin/platforms")
    assert page.status_code == 200 and "Sandbox LMS (Moodle-shaped)" in page.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    first_kid = client.get("/lti/jwks").get_json()["keys"][0]["kid"]
    assert client.post(course_path + "admin/keys/rotate", data={}).status_code == 400  # no CSRF token
    assert client.post(course_path + "admin/keys/rotate", data={"csrf_token": token}).status_code == 302
    published = [key["kid"] for key in client.get("/lti/jwks").get_json()["keys"]]
    assert len(published) == 2 and first_kid in published


def test_the_sandbox_refuses_a_wrong_redirect_uri(client):
    response = client.get("/sandbox/moodle/auth", query_string={
        "scope": "openid", "response_type": "id_token", "response_mode": "form_post", "client_id": "sandbox-moodle-tool",
        "redirect_uri": "https://evil.example/launch", "login_hint": "100", "lti_message_hint": "amara:", "state": "s",
        "nonce": "n"})
    assert response.status_code == 400
    assert "redirect_uri" in response.get_data(as_text=True)


def test_the_sandbox_course_page_lists_every_demo_person(client):
    page = client.get("/sandbox/").get_data(as_text=True)
    for person in sandbox.PEOPLE:
        assert f"/sandbox/launch/moodle/{person.key}" in page and f"/sandbox/launch/canvas/{person.key}" in page


def test_memberships_are_one_per_person_and_course(app, client, make_client):
    sandbox_launch(client, "moodle", "amara")
    sandbox_launch(make_client(), "moodle", "amara")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 1


def test_a_canvas_observer_supervises_only_the_interns_they_mentor(app, client, make_client):
    from portfolio.signoff.models import Supervision

    sandbox_launch(make_client(), "canvas", "amara")
    sandbox_launch(make_client(), "canvas", "lucia")
    response = sandbox_launch(client, "canvas", "mentor")
    queue = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    assert "Amara Okafor" in queue and "Lucía" not in queue
    with app.app_context():
        rows = db.session.scalars(sa.select(Supervision)).all()
        names = {db.session.get(User, s.intern_id).name for s in rows}
        assert names == {"Amara Okafor"} and {s.source for s in rows} == {"mentor"}
