"""The sandbox LMS's mailbox: mail delivered without SMTP, readable by anyone while the
sandbox is on, with the mail's action as a plain link the demo can follow."""

from __future__ import annotations

import sqlalchemy as sa
from markupsafe import escape

from portfolio import create_app
from portfolio.db import db
from portfolio.notify.delivery import deliver_due
from portfolio.notify.models import OutboxMessage
from tests.notify import make_person, outbox, queue_invitation


def delivered_invitation(app, **context) -> int:
    message_id = queue_invitation(app, make_person(app, email="sam@host.example"), **context)
    with app.app_context():
        assert deliver_due() == 1
    return message_id


def test_the_mailbox_lists_sandbox_mail_newest_first(app, client):
    first = delivered_invitation(app)
    second = queue_invitation(app, make_person(app, email="kim@host.example"), key="invitation:2",
                              intern_name="Ben Brown")
    with app.app_context():
        deliver_due()
    pending = queue_invitation(app, make_person(app, email="lee@host.example"), key="pending")

    page = client.get("/sandbox/mailbox").get_data(as_text=True)
    assert page.index(f"/sandbox/mailbox/{second}") < page.index(f"/sandbox/mailbox/{first}")
    assert "kim@host.example" in page and "Ben Brown asks you to sign off" in page
    assert f"/sandbox/mailbox/{pending}" not in page  # not delivered yet


def test_a_message_shows_its_html_sandboxed_its_text_and_its_link(app, client):
    message_id = delivered_invitation(app, intern_name="<script>alert(1)</script>")
    response = client.get(f"/sandbox/mailbox/{message_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    [mail] = outbox(app)

    assert f'sandbox srcdoc="{escape(mail.body_html)}"' in page
    assert "<script>alert(1)</script>" not in page
    assert f"<pre style=\"white-space: pre-wrap;\">{escape(mail.body_text)}</pre>" in page
    assert '<a class="button" href="https://portfolio.example/signin/abc">' in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_only_sandbox_deliveries_are_shown(app, client):
    message_id = queue_invitation(app, make_person(app))
    assert client.get(f"/sandbox/mailbox/{message_id}").status_code == 404  # still pending
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(state="sent", transport="smtp"))
        db.session.commit()
    assert client.get(f"/sandbox/mailbox/{message_id}").status_code == 404
    assert f"/sandbox/mailbox/{message_id}" not in client.get("/sandbox/mailbox").get_data(as_text=True)
    assert client.get("/sandbox/mailbox/999999").status_code == 404


def test_no_mailbox_without_the_sandbox(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "SECRET_KEY": "k" * 48,
                      "SANDBOX": False})
    assert "sandbox_mailbox" not in app.blueprints
    assert app.test_client().get("/sandbox/mailbox").status_code == 404
