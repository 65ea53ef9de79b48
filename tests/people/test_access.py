"""Course scoping, sign-in, CSRF and the person's own preferences."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Course, User


def test_anonymous_visitors_get_a_401_page_that_says_what_to_do(client):
    response = client.get("/c/1/")
    assert response.status_code == 401
    assert "Open the tool again from your course" in response.get_data(as_text=True)


def test_another_courses_pages_are_404(app, client, make_client, lms):
    lms.launch(client, context={"id": "course-A", "title": "A"})
    other = lms.launch(make_client(), sub="someone-else", context={"id": "course-B", "title": "B"})
    assert other.status_code == 302
    with app.app_context():
        a, b = (db.session.scalar(sa.select(Course.id).where(Course.context_id == c)) for c in ("course-A", "course-B"))
    assert client.get(f"/c/{a}/", follow_redirects=True).status_code == 200
    assert client.get(f"/c/{b}/").status_code == 404
    assert client.get(f"/c/{b}/preferences").status_code == 404
    assert client.get("/c/99999/").status_code == 404


def test_the_index_sends_a_signed_in_person_to_their_course(client, lms):
    home = lms.launch(client).headers["Location"]
    assert client.get("/").headers["Location"] == home


def test_preferences_need_a_csrf_token_and_keep_input_on_error(app, client, lms):
    home = lms.launch(client).headers["Location"]
    page = client.get(home + "preferences").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    assert client.post(home + "preferences", data={"locale": "fr", "timezone": "Europe/Paris"}).status_code == 400
    bad = client.post(home + "preferences", data={"csrf_token": token, "locale": "fr", "timezone": "Mars/Base"})
    assert bad.status_code == 422
    bad_page = bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in bad_page and 'role="alert"' in bad_page
    assert '<option selected value="fr">' in bad_page  # what was typed stays

    ok = client.post(home + "preferences", data={"csrf_token": token, "locale": "fr", "timezone": "Europe/Paris"})
    assert ok.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert (user.preferred_locale, user.preferred_timezone) == ("fr", "Europe/Paris")


def test_a_chosen_timezone_survives_the_next_launch(app, client, lms):
    home = lms.launch(client, custom={"timezone": "Asia/Tokyo"}).headers["Location"]
    page = client.get(home + "preferences").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(home + "preferences", data={"csrf_token": token, "locale": "", "timezone": "Europe/Rome"})
    lms.launch(client, custom={"timezone": "Asia/Tokyo"})
    with app.app_context():
        user = db.session.scalar(sa.select(User))
        assert (user.timezone, user.effective_timezone) == ("Asia/Tokyo", "Europe/Rome")


def test_advisor_sees_the_cohort_intern_does_not(app, client, make_client, lms):
    from tests.platform import LIS

    advisor = make_client()
    home = lms.launch(advisor, sub="adv", name="Ada Advisor", roles=[LIS + "membership#Instructor"]).headers["Location"]
    lms.launch(client, sub="int", name="Ivan Intern")
    cohort = advisor.get(home).get_data(as_text=True)
    assert "Ivan Intern" in cohort and "Ada Advisor" in cohort
    assert "Ada Advisor" not in client.get(home).get_data(as_text=True)


def test_the_admin_home_lists_the_platforms_courses_with_member_counts(client, make_client, lms):
    from tests.platform import LIS

    lms.launch(make_client(), sub="intern-a", context={"id": "course-A", "title": "Course A"})
    lms.launch(make_client(), sub="intern-b", context={"id": "course-A", "title": "Course A"})
    home = lms.launch(client, sub="admin", roles=[LIS + "institution/person#Administrator"],
                      context={"id": "course-B", "title": "Course B"}).headers["Location"]
    page = client.get(home).get_data(as_text=True)
    assert "<h1>Administration" in page
    assert "<tr><td>Course A</td><td><code>course-A</code></td><td>2</td></tr>" in page
    assert "<tr><td>Course B</td><td><code>course-B</code></td><td>1</td></tr>" in page
