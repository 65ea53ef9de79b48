"""The journal's list of weeks is kept as HTML (journal.views._timeline_html): a week that
changes shows at once, and each reader gets their own language and clock."""

from __future__ import annotations

import re
from datetime import date, timedelta

import sqlalchemy as sa

from portfolio.db import db
from portfolio.journal.models import EntryState
from portfolio.journal.weeks import current_week
from portfolio.people.models import Role, User

ZONE = "Pacific/Auckland"


def _current_week_item(client, course_id: int) -> str:
    response = client.get(f"/c/{course_id}/journal")
    assert response.status_code == 200
    return re.search(r'<li class="week [^"]*week-current">(.*?)</li>', response.get_data(as_text=True), re.S).group(1)


def _intern(make_member, make_placement, course_id=None, **kwargs):
    intern = make_member(Role.intern, course_id=course_id, **kwargs)
    make_placement(intern, start=date.today() - timedelta(days=21), end=date.today() + timedelta(days=60),
                   timezone=ZONE)
    return intern


def test_a_week_that_changes_shows_at_once(app, client, login, make_member, make_placement, make_entry):
    intern = _intern(make_member, make_placement, timezone="Europe/Berlin")
    login(client, intern)
    item = _current_week_item(client, intern.course_id)
    assert "not started" in item and "Due by" in item and "<span>Europe/Berlin</span>" in item

    entry_id = make_entry(intern, week_start=current_week(ZONE), tasks=[("Ran the workshop", "6", [])])
    item = _current_week_item(client, intern.course_id)
    assert "draft" in item and "6 h" in item and "Due by" in item

    from portfolio.journal.models import Entry

    with app.app_context():
        db.session.execute(sa.update(Entry).where(Entry.id == entry_id).values(state=EntryState.submitted))
        db.session.commit()
    item = _current_week_item(client, intern.course_id)
    assert "submitted" in item and "Due by" not in item  # nothing left to do this week

    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == intern.user_id).values(preferred_timezone="Asia/Tokyo"))
        db.session.execute(sa.update(Entry).where(Entry.id == entry_id).values(state=EntryState.draft))
        db.session.commit()
    assert "<span>Asia/Tokyo</span>" in _current_week_item(client, intern.course_id)


def test_each_reader_gets_their_own_words(app, make_client, login, make_member, make_placement):
    english = _intern(make_member, make_placement, timezone="Europe/Berlin")
    french = _intern(make_member, make_placement, course_id=english.course_id, timezone="Europe/Paris", locale="fr")
    for _ in range(2):  # the second time from what was kept
        in_english = _current_week_item(login(make_client(), english), english.course_id)
        in_french = _current_week_item(login(make_client(), french), french.course_id)
        assert "this week" in in_english and "Week of" in in_english and "<span>Europe/Berlin</span>" in in_english
        assert "cette semaine" in in_french and "Semaine du" in in_french and "<span>Europe/Paris</span>" in in_french
