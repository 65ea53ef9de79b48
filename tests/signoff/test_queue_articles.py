"""The review queue keeps each week's article as HTML (signoff.views._articles): what it
shows must still change at once, each reader must get their own language and clock, and
every form must carry the reader's own CSRF token."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import sqlalchemy as sa

from portfolio.db import db
from portfolio.journal.models import Entry
from portfolio.people.models import Role, User

TOKENS = re.compile(r'name="csrf_token" value="([^"]*)"')


def _queue(client, course_id: int) -> str:
    response = client.get(f"/c/{course_id}/review")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _set(app, model, row_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(sa.update(model).where(model.id == row_id).values(**values))
        db.session.commit()


def test_a_change_shows_at_once(app, team, make_member):
    entry_id = team.submitted_entry()
    client = team.login(team.make_client(), team.advisor)
    assert "Amara Okafor" in _queue(client, team.course_id)

    _set(app, User, team.intern.user_id, name="Amara Okafor-Diallo")  # the LMS renamed her
    page = _queue(client, team.course_id)
    assert "Amara Okafor-Diallo" in page

    _set(app, Entry, entry_id, revision=2)  # sent back and submitted again
    assert "revision 2" in _queue(client, team.course_id)

    other = make_member(Role.intern, course_id=team.course_id, name="Kofi Mensah")
    team.submitted_entry(intern=other)
    page = _queue(client, team.course_id)
    assert "Kofi Mensah" in page and "Amara Okafor-Diallo" in page and "2 weeks wait" in page


def test_each_reader_gets_their_own_words_and_clock(app, team, make_member):
    entry_id = team.submitted_entry()
    _set(app, Entry, entry_id, submitted_at=datetime(2027, 3, 7, 22, 30, tzinfo=timezone.utc))
    _set(app, User, team.advisor.user_id, preferred_locale="en", preferred_timezone="America/New_York")
    colleague = make_member(Role.advisor, course_id=team.course_id, name="Claire Dubois")
    _set(app, User, colleague.user_id, preferred_locale="fr", preferred_timezone="Asia/Tokyo")

    english = team.login(team.make_client(), team.advisor)
    french = team.login(team.make_client(), colleague)
    for _ in range(2):  # the second time from what was kept
        in_english, in_french = _queue(english, team.course_id), _queue(french, team.course_id)
        assert "Approve" in in_english and "submitted 3/7/27, 5:30" in in_english  # New York: 17:30
        assert "Valider" in in_french and "soumise le 08/03/2027 07:30" in in_french  # Tokyo: next morning
        assert "Valider" not in in_english and "Approve" not in in_french


def test_every_form_carries_the_readers_own_token(app, team):
    entry_id = team.submitted_entry()
    first, second = team.login(team.make_client(), team.advisor), team.login(team.make_client(), team.advisor)
    tokens_first = TOKENS.findall(_queue(first, team.course_id))
    tokens_second = TOKENS.findall(_queue(second, team.course_id))
    assert len(tokens_first) == 2 and len(set(tokens_first)) == 1 and tokens_first[0]  # the bulk form and the week's
    assert len(tokens_second) == 2 and tokens_second[0] != tokens_first[0]  # another session, its own token
    assert "csrf-slot" not in _queue(first, team.course_id)

    page = _queue(first, team.course_id)
    content_hash = re.search(r'name="content_hash" value="([0-9a-f]{64})"', page).group(1)
    decided = first.post(f"/c/{team.course_id}/entries/{entry_id}/decide",
                         data={"csrf_token": TOKENS.findall(page)[-1], "content_hash": content_hash,
                               "decision": "approve"})
    assert decided.status_code == 302
    assert "Nothing waits for you" in _queue(first, team.course_id)


def test_typed_text_cannot_take_the_tokens_slot(app, team):
    entry_id = team.submitted_entry()
    _set(app, Entry, entry_id, reflection="<csrf-slot>", reflection_html="<p>&lt;csrf-slot&gt;</p>")
    page = _queue(team.login(team.make_client(), team.advisor), team.course_id)
    reflection = re.search(r'<div class="reflection">(.*?)</div>', page, re.S).group(1)
    assert reflection == "<p>&lt;csrf-slot&gt;</p>"  # as typed, not the token
    assert all(TOKENS.findall(page))
