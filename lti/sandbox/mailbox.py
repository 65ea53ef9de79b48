"""The sandbox LMS's mailbox: with no SMTP server configured, mail "sent" by the tool
lands here, so the demo can follow an invitation from the intern's click to the
supervisor's sign-in. Like the rest of the sandbox, it exists only with the sandbox on,
and anyone may read it."""

from __future__ import annotations

from html.parser import HTMLParser

import sqlalchemy as sa
from flask import Blueprint, abort, render_template

from portfolio.db import db
from portfolio.notify.models import OutboxMessage, OutboxState

bp = Blueprint("sandbox_mailbox", __name__)

# The mail's own inline styles apply inside the sandboxed frame (which inherits this
# page's policy); scripts stay off, there and here.
MESSAGE_POLICY = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
                  "object-src 'none'; base-uri 'self'; form-action *; frame-ancestors *")


class _ActionLink(HTMLParser):
    """Finds the mail's one action: the ``<a id="action">`` of templates/notify/_layout.html."""

    def __init__(self):
        super().__init__()
        self.href: str | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "a" and values.get("id") == "action" and self.href is None:
            self.href = values.get("href")


def action_link(body_html: str) -> str | None:
    parser = _ActionLink()
    parser.feed(body_html)
    href = parser.href or ""
    return href if href.startswith(("http://", "https://")) else None


def _delivered():
    return sa.select(OutboxMessage).where(OutboxMessage.transport == "sandbox",
                                          OutboxMessage.state == OutboxState.sent)


@bp.get("/sandbox/mailbox")
def index():
    messages = db.session.scalars(_delivered().order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
                                  .limit(200)).all()
    return render_template("sandbox/mailbox.html", messages=messages)


@bp.get("/sandbox/mailbox/<int:message_id>")
def show(message_id: int):
    message = db.session.scalar(_delivered().where(OutboxMessage.id == message_id)) or abort(404)
    response = render_template("sandbox/mailbox_message.html", message=message,
                               action_url=action_link(message.body_html))
    return response, {"Content-Security-Policy": MESSAGE_POLICY}
