"""queue_mail: rendered once, in the recipient's language and time zone, escaped, and
queued at most once per dedupe key, inside the caller's transaction."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest

from portfolio.db import db
from portfolio.notify.operations import queue_mail
from portfolio.people.models import User
from tests.notify import EXPIRES, invitation_context, make_person, outbox, queue_invitation

ACTION = "https://portfolio.example/c/1/act"
CONTEXTS = {
    "invitation": invitation_context(action_url=ACTION),
    "sign_in_link": {"supervisor_name": "Sam", "course_title": "Internship 2027", "action_url": ACTION,
                     "expires_at": EXPIRES},
    "entry_submitted": {"supervisor_name": "Sam", "intern_name": "Amara", "week_label": "Mar 1, 2027",
                        "action_url": ACTION},
    "decision": {"intern_name": "Amara", "week_label": "Mar 1, 2027", "decision": "changes_requested",
                 "comment": "Add the hours of Friday.", "decided_by_name": "Sam", "action_url": ACTION},
    "digest": {"supervisor_name": "Sam", "course_title": "Internship 2027", "action_url": ACTION,
               "waiting": [{"intern_name": "Amara", "week_label": "Mar 1, 2027", "submitted_at": EXPIRES},
                           {"intern_name": "Ben", "week_label": "Mar 8, 2027", "submitted_at": EXPIRES}]},
    "reminder": {"intern_name": "Amara", "course_title": "Internship 2027", "action_url": ACTION,
                 "weeks": [{"week_label": "Mar 1, 2027", "status": "missing", "due": EXPIRES},
                           {"week_label": "Mar 8, 2027", "status": "draft", "due": EXPIRES}],
                 "own_zone": "Pacific/Auckland", "course_zone": "Europe/Berlin"},
}


@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_every_kind_has_a_subject_a_text_and_an_html_with_one_action(app, kind):
    user_id = make_person(app)
    with app.app_context():
        message = queue_mail(kind, to=db.session.get(User, user_id), course=None, context=CONTEXTS[kind],
                             dedupe_key=f"{kind}:1")
        assert message.subject and "\n" not in message.subject
        assert message.recipient == "sam@host.example" and message.kind == kind
        assert message.state.value == "pending" and message.attempts == 0
        html, text = message.body_html, message.body_text
    assert re.findall(r"<a [^>]*href=\"([^\"]*)\"", html) == [ACTION]
    assert html.count(ACTION) == 2  # the button, and the address spelled out for copying
    assert text.count(ACTION) == 1 and "<" not in text
    for external in ("<img", "<link", "<script", "<style", "src="):
        assert external not in html


def test_mail_is_in_the_recipients_language_and_time_zone(app):
    english = make_person(app, email="en@host.example", locale="en-GB")
    spanish = make_person(app, email="es@host.example", locale="es-419", timezone="Pacific/Auckland")
    chinese = make_person(app, email="zh@host.example", locale="zh-CN")
    for n, user_id in enumerate((english, spanish, chinese)):
        queue_invitation(app, user_id, key=f"invitation:{n}")
    en, es, zh = outbox(app)

    assert (en.locale, es.locale, zh.locale) == ("en", "es", "zh_Hans")
    assert '<html lang="en">' in en.body_html and '<html lang="es">' in es.body_html
    assert '<html lang="zh-Hans">' in zh.body_html
    # Months named by the language; the time where the recipient is (09:00 UTC = 22:00 NZDT).
    assert "Mar 15, 2027, 9:00\u202fAM (UTC)" in en.body_text
    assert "15 mar 2027, 22:00 (Pacific/Auckland)" in es.body_text
    assert "2027年3月15日 09:00 (UTC)" in zh.body_html


def test_an_explicit_locale_wins_over_the_persons_own(app):
    user_id = make_person(app, locale="en")
    with app.app_context():
        message = queue_mail("invitation", to=db.session.get(User, user_id), course=None,
                             context=invitation_context(), dedupe_key="k", locale="de-AT")
        assert message.locale == "de" and '<html lang="de">' in message.body_html
        assert "15.03.2027" in message.body_text


def test_the_same_dedupe_key_queues_nothing_the_second_time(app):
    user_id = make_person(app)
    queue_invitation(app, user_id, key="invitation:7")
    with app.app_context():
        again = queue_mail("invitation", to=db.session.get(User, user_id), course=None,
                           context=invitation_context(intern_name="Someone else"), dedupe_key="invitation:7")
        db.session.commit()
    assert again is None
    assert [m.dedupe_key for m in outbox(app)] == ["invitation:7"]
    assert "Amara Okafor" in outbox(app)[0].subject


def test_queueing_a_mail_is_one_statement_that_gives_the_queued_row(app):
    from tests.statements import statements_run

    user_id = make_person(app)
    with app.app_context():
        to = db.session.get(User, user_id)
        with statements_run(app) as statements:
            message = queue_mail("invitation", to=to, course=None, context=invitation_context(), dedupe_key="one")
        assert len(statements) == 1 and statements[0].lstrip().upper().startswith("INSERT INTO OUTBOX_MESSAGE")
        assert (message.dedupe_key, message.recipient, message.attempts) == ("one", "sam@host.example", 0)
        db.session.commit()
    assert [m.dedupe_key for m in outbox(app)] == ["one"]


def test_a_mail_belongs_to_the_callers_transaction(app):
    user_id = make_person(app)
    with app.app_context():
        assert queue_mail("invitation", to=db.session.get(User, user_id), course=None,
                          context=invitation_context(), dedupe_key="rolled-back") is not None
        db.session.rollback()  # the change that caused the mail failed: no mail
    assert outbox(app) == []


def test_user_text_is_escaped_in_html_and_kept_in_text(app):
    user_id = make_person(app, name="<b>Sam</b>")
    with app.app_context():
        message = queue_mail("decision", to=db.session.get(User, user_id), course=None, dedupe_key="d", context={
            **CONTEXTS["decision"], "intern_name": "<script>alert(1)</script>",
            "comment": '<img src="https://tracker.example/x.gif">', "decided_by_name": "Sam & Co"})
        html, text = message.body_html, message.body_text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=&#34;https://tracker.example/x.gif&#34;&gt;" in html
    assert "Sam &amp; Co" in html
    assert "<script>alert(1)</script>" in text and "Sam & Co" in text


def test_a_subject_stays_one_line_whatever_the_names(app):
    user_id = make_person(app)
    queue_invitation(app, user_id, intern_name="Amara\r\nBcc: everyone@example.test")
    assert outbox(app)[0].subject == "Amara Bcc: everyone@example.test asks you to sign off their internship journal"


@pytest.mark.parametrize("email", [None, "", "nobody", "not an@address"])
def test_people_without_a_usable_address_get_no_mail(app, email):
    user_id = make_person(app, email=email)
    with app.app_context():
        assert queue_mail("invitation", to=db.session.get(User, user_id), course=None,
                          context=invitation_context(), dedupe_key="x") is None
    assert outbox(app) == []


def test_an_unknown_kind_is_a_programming_error(app):
    user_id = make_person(app)
    with app.app_context(), pytest.raises(ValueError):
        queue_mail("spam", to=db.session.get(User, user_id), course=None, context={}, dedupe_key="x")


def test_decision_mails_say_which_decision(app):
    user_id = make_person(app)
    with app.app_context():
        user = db.session.get(User, user_id)
        approved = queue_mail("decision", to=user, course=None, dedupe_key="a",
                              context={**CONTEXTS["decision"], "decision": "approved", "comment": None})
        sent_back = queue_mail("decision", to=user, course=None, dedupe_key="b", context=CONTEXTS["decision"])
        assert approved.subject == "Your week of Mar 1, 2027 was approved"
        assert "comment" not in approved.body_text
        assert sent_back.subject == "Your week of Mar 1, 2027 was sent back"
        assert "Add the hours of Friday." in sent_back.body_text and "Revise the week" in sent_back.body_html
