"""The header every page shows is kept as HTML (templating.site_header): the course's
title, the person's role, name and language show as they are now, on every page."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Course, Role, User


def _header(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return re.search(r'<header class="site-header">(.*?)</header>', response.get_data(as_text=True), re.S).group(1)


def _set(app, model, row_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def test_the_header_shows_the_course_role_name_and_language_as_they_are_now(app, make_client, login, make_member):
    intern = make_member(Role.intern, name="Amara Okafor")
    advisor = make_member(Role.advisor, course_id=intern.course_id, name="Helen Schmidt")
    as_intern, as_advisor = login(make_client(), intern), login(make_client(), advisor)
    url = f"/c/{intern.course_id}/grade"
    header = _header(as_intern, url)
    assert "My journal" in header and "Cohort" not in header and "Signed in as Amara Okafor" in header
    header = _header(as_advisor, f"/c/{intern.course_id}/grades")
    assert "Cohort" in header and "My journal" not in header and "Signed in as Helen Schmidt" in header

    _set(app, Course, intern.course_id, title="Spring placements")
    _set(app, User, intern.user_id, name="Amara Okafor-Diallo", preferred_locale="fr")
    header = _header(as_intern, url)
    assert "Spring placements" in header and "Mon journal" in header
    assert "Connecté(e) en tant que Amara Okafor-Diallo" in header
    assert "Spring placements" in _header(as_advisor, f"/c/{intern.course_id}/grades")
    assert "Signed in as Helen Schmidt" in _header(as_advisor, f"/c/{intern.course_id}/grades")


def test_a_page_without_a_course_has_the_bare_header(client):
    header = _header(client, "/privacy")
    assert "Internship portfolio" in header and "<nav" not in header and "Signed in as" not in header
