"""A person's time zone comes from the LMS, else from the browser (POST /timezone, sent
by static/js/timezone.js), and their own choice in Preferences wins over both."""

from __future__ import annotations

from portfolio.people.models import Role
from tests.journal.helpers import token_for


def timezone_of(app, user_id: int) -> tuple[str | None, str | None]:
    from portfolio.db import db
    from portfolio.people.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        return user.timezone, user.preferred_timezone


def test_a_person_without_a_zone_takes_the_browser_s(app, client, make_member, login):
    intern = make_member(Role.intern, timezone=None)
    login(client, intern)
    page = client.get(f"/c/{intern.course_id}/preferences").get_data(as_text=True)
    assert 'data-browser-timezone-url="/timezone"' in page  # base.html asks the browser
    response = client.post("/timezone", data={"timezone": "America/Sao_Paulo",
                                              "csrf_token": token_for(client, intern.course_id)})
    assert response.status_code == 204
    assert timezone_of(app, intern.user_id) == ("America/Sao_Paulo", None)
    page = client.get(f"/c/{intern.course_id}/preferences").get_data(as_text=True)
    assert "data-browser-timezone-url" not in page  # asked once: now it is known


def test_the_lms_s_zone_and_the_person_s_choice_are_never_replaced(app, client, make_member, login):
    intern = make_member(Role.intern, timezone="Pacific/Auckland")
    login(client, intern)
    client.post("/timezone", data={"timezone": "Europe/Paris", "csrf_token": token_for(client, intern.course_id)})
    assert timezone_of(app, intern.user_id) == ("Pacific/Auckland", None)

    chooser = make_member(Role.intern, timezone=None)
    login(client, chooser)
    token = token_for(client, chooser.course_id)
    client.post(f"/c/{chooser.course_id}/preferences", data={"locale": "", "timezone": "Asia/Tokyo",
                                                             "csrf_token": token})
    client.post("/timezone", data={"timezone": "Europe/Paris", "csrf_token": token})
    assert timezone_of(app, chooser.user_id) == (None, "Asia/Tokyo")


def test_an_unknown_zone_is_ignored_and_the_form_is_protected(app, client, make_member, login):
    intern = make_member(Role.intern, timezone=None)
    login(client, intern)
    token = token_for(client, intern.course_id)
    assert client.post("/timezone", data={"timezone": "Mars/Olympus_Mons", "csrf_token": token}).status_code == 204
    assert timezone_of(app, intern.user_id) == (None, None)
    assert client.post("/timezone", data={"timezone": "Europe/Paris"}).status_code == 400  # no CSRF token
    assert timezone_of(app, intern.user_id) == (None, None)


def test_someone_signed_out_cannot_set_a_zone(client):
    response = client.post("/timezone", data={"timezone": "Europe/Paris"})
    assert response.status_code in (400, 401)
