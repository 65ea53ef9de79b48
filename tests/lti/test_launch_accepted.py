"""Launches the certification suite expects to pass, and what the person finds after."""

from __future__ import annotations

import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Membership, Role, User
from tests.platform import LIS, REMOVE


def membership(app, sub="user-1") -> Membership | None:
    with app.app_context():
        return db.session.scalar(
            sa.select(Membership).join(Membership.user).where(User.lti_sub == sub)
            .options(sa.orm.joinedload(Membership.user), sa.orm.joinedload(Membership.course))
        )


def test_learner_lands_on_the_journal(app, client, lms):
    response = lms.launch(client)
    assert response.status_code == 302
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert home.status_code == 200
    assert "My internship journal" in home.get_data(as_text=True)
    assert membership(app).role is Role.intern


def test_empty_roles_land_on_a_no_role_page(app, client, lms):
    response = lms.launch(client, roles=[])
    assert response.status_code == 200
    assert "no role in this course" in response.get_data(as_text=True)
    assert membership(app) is None


def test_unknown_role_lands_on_the_no_role_page(app, client, lms):
    response = lms.launch(client, roles=["http://example.test/roles#Wizard"])
    assert response.status_code == 200
    assert "no role in this course" in response.get_data(as_text=True)


def test_short_role_name_instructor(app, client, lms):
    assert lms.launch(client, roles=["Instructor"]).status_code == 302
    assert membership(app).role is Role.advisor


def test_several_roles_take_the_most_privileged(app, client, lms):
    roles = [LIS + "membership#Learner", LIS + "membership/Instructor#TeachingAssistant", LIS + "system/person#User"]
    assert lms.launch(client, roles=roles).status_code == 302
    assert membership(app).role is Role.advisor


def test_no_name_and_no_email(app, client, lms):
    response = lms.launch(client, name=REMOVE, email=REMOVE)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], follow_redirects=True).get_data(as_text=True)
    user = membership(app).user
    assert user.name is None and user.email is None
    assert f"Participant {user.id}" in page


def test_email_only(app, client, lms):
    assert lms.launch(client, name=REMOVE).status_code == 302
    user = membership(app).user
    assert (user.name, user.email) == (None, "person@example.test")


def test_name_only(app, client, lms):
    assert lms.launch(client, email=REMOVE).status_code == 302
    assert membership(app).user.name == "Test Person"


def test_name_from_given_and_family_name(app, client, lms):
    assert lms.launch(client, name=REMOVE, given_name="Ada", family_name="Lovelace").status_code == 302
    assert membership(app).user.name == "Ada Lovelace"


def test_rotated_platform_key_after_exactly_one_fetch(client, lms):
    assert lms.launch(client).status_code == 302
    assert lms.fetches == 1
    lms.rotate()
    assert lms.launch(client).status_code == 302
    assert lms.fetches == 2
    assert lms.launch(client).status_code == 302  # and then from the cache
    assert lms.fetches == 2


def test_unknown_claims_are_ignored(client, lms):
    assert lms.launch(client, **{"https://example.test/claim": [1, 2, 3], "weird": None}).status_code == 302


def test_login_by_post(client, lms):
    state, nonce = lms.login(client, method="POST")
    assert lms.launch(client, state=state, nonce=nonce).status_code == 302


def test_login_with_canvas_deployment_id_parameter(client, lms):
    state, nonce = lms.login(client, lti_deployment_id=None, deployment_id="deployment-1")
    assert lms.launch(client, state=state, nonce=nonce).status_code == 302


def test_login_without_client_id_when_the_issuer_has_one_registration(client, lms):
    state, nonce = lms.login(client, client_id=None)
    assert lms.launch(client, state=state, nonce=nonce).status_code == 302


def test_the_same_person_and_course_on_every_launch(app, client, make_client, lms):
    lms.launch(client)
    lms.launch(make_client(), name="Renamed Person")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 1
        assert db.session.scalar(sa.select(User.name)) == "Renamed Person"


def test_a_later_launch_with_another_role_changes_the_role(app, client, make_client, lms):
    lms.launch(client)
    lms.launch(make_client(), roles=[LIS + "membership#Instructor"])
    assert membership(app).role is Role.advisor


def test_locale_and_timezone_from_the_launch(app, client, lms):
    lms.launch(client, launch_presentation={"locale": "es-ES"}, custom={"timezone": "America/Los_Angeles"})
    user = membership(app).user
    assert (user.locale, user.timezone) == ("es-ES", "America/Los_Angeles")


def test_canvas_locale_claim_and_invalid_timezone(app, client, lms):
    lms.launch(client, launch_presentation=REMOVE, locale="zh-Hans", custom={"canvas_user_timezone": "Mars/Olympus"})
    user = membership(app).user
    assert (user.locale, user.timezone) == ("zh-Hans", None)
