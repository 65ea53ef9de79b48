"""Decisions in the review queue: who, when, the hash of what was approved, once."""

from __future__ import annotations

import re
from decimal import Decimal

import sqlalchemy as sa

from flask_babel import force_locale, ngettext

from portfolio.db import db
from portfolio.journal.models import Entry, EntryState, Task
from portfolio.signoff.models import Decision, DecisionKind
from tests.journal.helpers import csrf_token


def queue_page(client, team):
    response = client.get(f"/c/{team.course_id}/review")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def hash_in(page: str, entry_id: int) -> str:
    return re.search(rf'action="/c/\d+/entries/{entry_id}/decide".*?name="content_hash" value="([0-9a-f]{{64}})"',
                     page, re.S).group(1)


def decisions(app):
    with app.app_context():
        return db.session.scalars(sa.select(Decision).order_by(Decision.id)).all()


def state(app, entry_id):
    with app.app_context():
        return db.session.get(Entry, entry_id).state


def test_the_queue_shows_waiting_weeks_oldest_first_with_tasks_and_hours(app, team):
    from datetime import date

    from datetime import timedelta

    from portfolio.db import utcnow

    late = team.submitted_entry(week=date(2027, 3, 8))
    early = team.submitted_entry(week=date(2027, 3, 1))
    with app.app_context():  # the later week was submitted first: it has waited longest
        db.session.execute(sa.update(Entry).where(Entry.id == late).values(submitted_at=utcnow() - timedelta(days=2)))
        db.session.execute(sa.update(Entry).where(Entry.id == early).values(submitted_at=utcnow() - timedelta(days=1)))
        db.session.commit()
    client, _ = team.sign_in(team.invite(locale="fr"))
    page = queue_page(client, team)
    assert "Amara Okafor" in page and "Prepared the workshop" in page
    assert 'value="7,5"' in page and '<html lang="fr"' in page  # the supervisor's language, numbers included
    assert page.index(f"entries/{late}/decide") < page.index(f"entries/{early}/decide")
    with app.test_request_context(), force_locale("fr"):
        expected = ngettext("%(num)s week waits for your decision, oldest first.",
                            "%(num)s weeks wait for your decision, oldest first.", 2)
    assert expected in page and "2 weeks wait" not in page


def test_approve_records_who_when_and_the_hash_of_what_was_shown(app, team):
    entry_id = team.submitted_entry()
    client, _ = team.sign_in(team.invite())
    page = queue_page(client, team)
    shown = hash_in(page, entry_id)
    response = client.post(f"/c/{team.course_id}/entries/{entry_id}/decide",
                           data={"csrf_token": csrf_token(page), "decision": "approve", "content_hash": shown})
    assert response.status_code == 302
    (decision,) = decisions(app)
    assert decision.kind is DecisionKind.approved and decision.decided_by_name == "Claire Dubois"
    assert decision.content_hash == shown and decision.via == "link" and decision.submission == 1
    assert state(app, entry_id) is EntryState.approved
    from portfolio.notify.models import OutboxMessage

    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "decision"))
        assert mail is not None and mail.recipient.startswith("intern")


def test_sending_back_needs_a_comment(app, team):
    entry_id = team.submitted_entry()
    client, _ = team.sign_in(team.invite())
    page = queue_page(client, team)
    data = {"csrf_token": csrf_token(page), "decision": "request_changes", "content_hash": hash_in(page, entry_id)}
    refused = client.post(f"/c/{team.course_id}/entries/{entry_id}/decide", data={**data, "comment": " "})
    assert refused.status_code == 409 and "comment is required" in refused.get_data(as_text=True)
    assert decisions(app) == []
    ok = client.post(f"/c/{team.course_id}/entries/{entry_id}/decide", data={**data, "comment": "Add Friday"})
    assert ok.status_code == 302 and state(app, entry_id) is EntryState.changes_requested
    assert decisions(app)[0].comment == "Add Friday"


def test_corrected_hours_are_applied_recorded_and_hashed(app, team):
    from portfolio.signoff.operations import content_hash

    entry_id = team.submitted_entry()
    client, _ = team.sign_in(team.invite())
    page = queue_page(client, team)
    response = client.post(f"/c/{team.course_id}/entries/{entry_id}/decide", data={
        "csrf_token": csrf_token(page), "decision": "approve", "content_hash": hash_in(page, entry_id),
        f"hours-{entry_id}-0": "6,5", f"hours-{entry_id}-1": "2"})
    assert response.status_code == 302
    (decision,) = decisions(app)
    assert decision.hours_corrections == {"0": {"from": "7.50", "to": "6.50"}}
    with app.app_context():
        entry = db.session.get(Entry, entry_id)
        assert [t.hours for t in entry.tasks] == [Decimal("6.50"), Decimal("2.00")]
        assert decision.content_hash == content_hash(entry)


def test_content_changed_after_it_was_shown_is_refused(app, team):
    entry_id = team.submitted_entry()
    client, _ = team.sign_in(team.invite())
    page = queue_page(client, team)
    with app.app_context():  # the week changes behind the supervisor's back
        db.session.execute(sa.update(Task).where(Task.entry_id == entry_id, Task.position == 0).values(hours=40))
        db.session.commit()
    response = client.post(f"/c/{team.course_id}/entries/{entry_id}/decide", data={
        "csrf_token": csrf_token(page), "decision": "approve", "content_hash": hash_in(page, entry_id)})
    assert response.status_code == 409 and "changed after you opened it" in response.get_data(as_text=True)
    assert decisions(app) == [] and state(app, entry_id) is EntryState.submitted


def test_a_second_decision_gets_a_409_naming_the_first(app, team, make_client):
    entry_id = team.submitted_entry()
    supervisor, _ = team.sign_in(team.invite())
    advisor = team.login(make_client(), team.advisor)
    pages = [queue_page(supervisor, team), queue_page(advisor, team)]
    first = supervisor.post(f"/c/{team.course_id}/entries/{entry_id}/decide", data={
        "csrf_token": csrf_token(pages[0]), "decision": "approve", "content_hash": hash_in(pages[0], entry_id)})
    second = advisor.post(f"/c/{team.course_id}/entries/{entry_id}/decide", data={
        "csrf_token": csrf_token(pages[1]), "decision": "request_changes", "comment": "no",
        "content_hash": hash_in(pages[1], entry_id)})
    assert first.status_code == 302 and second.status_code == 409
    assert "Already decided: Claire Dubois approved" in second.get_data(as_text=True)
    assert len(decisions(app)) == 1


def test_approving_several_weeks_at_once_records_each(app, team):
    from datetime import date

    ids = [team.submitted_entry(week=date(2027, 3, 1)), team.submitted_entry(week=date(2027, 3, 8))]
    client, _ = team.sign_in(team.invite())
    page = queue_page(client, team)
    data = {"csrf_token": csrf_token(page), "entry_ids": [str(i) for i in ids]}
    for entry_id in ids:
        data[f"content_hash-{entry_id}"] = re.search(rf'name="content_hash-{entry_id}" value="([0-9a-f]{{64}})"', page).group(1)
    response = client.post(f"/c/{team.course_id}/review/approve", data=data)
    assert response.status_code == 302
    recorded = decisions(app)
    assert sorted(d.entry_id for d in recorded) == sorted(ids) and len({d.content_hash for d in recorded}) == 2
    assert all(state(app, i) is EntryState.approved for i in ids)


def test_resubmission_after_changes_gets_its_own_decision(app, team):
    from portfolio.journal import operations as journal
    from portfolio.people.models import Membership

    entry_id = team.submitted_entry()
    client, _ = team.sign_in(team.invite())
    page = queue_page(client, team)
    client.post(f"/c/{team.course_id}/entries/{entry_id}/decide", data={
        "csrf_token": csrf_token(page), "decision": "request_changes", "comment": "more", "content_hash": hash_in(page, entry_id)})
    with app.app_context():
        membership = db.session.get(Membership, team.intern.membership_id)
        journal.submit_entry(db.session.get(Entry, entry_id), by=membership)
        db.session.commit()
    page = queue_page(client, team)
    assert client.post(f"/c/{team.course_id}/entries/{entry_id}/decide", data={
        "csrf_token": csrf_token(page), "decision": "approve", "content_hash": hash_in(page, entry_id)}).status_code == 302
    assert [(d.submission, d.kind) for d in decisions(app)] == [(1, DecisionKind.changes_requested), (2, DecisionKind.approved)]


def test_submitting_a_week_mails_the_supervisor_in_their_language(app, team):
    from portfolio.notify.models import OutboxMessage
    from tests.journal.helpers import task_fields, token_for

    team.invite(locale="fr")
    intern = team.login(team.make_client(), team.intern)
    response = intern.post(f"/c/{team.course_id}/journal/weeks/2027-03-01", data={
        "csrf_token": token_for(intern, team.course_id), "reflection": "Done", "action": "submit",
        **task_fields(("Task", "3", [team.objective]))})
    assert response.status_code == 302
    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "entry_submitted"))
        assert mail.recipient == "claire@host.example.com" and mail.locale == "fr"
        assert f"/c/{team.course_id}/review" in mail.body_text and 'lang="fr"' in mail.body_html
        assert "1 mars 2027" in mail.body_text  # the week, as French writes dates
