"""Mail: queueing in the recipient's language, delivery through the outbox, the Monday
reminders and digests, and the sandbox mailbox. Helpers shared by these tests below."""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa

from portfolio.db import db
from portfolio.notify.models import OutboxMessage

EXPIRES = datetime(2027, 3, 15, 9, 0, tzinfo=timezone.utc)


def make_person(app, name: str = "Sam Supervisor", email: str | None = "sam@host.example",
                locale: str | None = "en", timezone: str | None = None) -> int:
    """Someone who never came through an LMS, like an invited supervisor."""
    from portfolio.people.models import User

    with app.app_context():
        user = User(platform_id=None, name=name, email=email, locale=locale, timezone=timezone)
        db.session.add(user)
        db.session.commit()
        return user.id


def invitation_context(**overrides) -> dict:
    return {"supervisor_name": "Sam Supervisor", "intern_name": "Amara Okafor", "course_title": "Internship 2027",
            "action_url": "https://portfolio.example/signin/abc", "expires_at": EXPIRES,
            "inviter_name": "Amara Okafor", **overrides}


def queue_invitation(app, user_id: int, key: str = "invitation:1", **context) -> int:
    """Queue and commit one invitation; returns the outbox id."""
    from portfolio.notify.operations import queue_mail
    from portfolio.people.models import User

    with app.app_context():
        message = queue_mail("invitation", to=db.session.get(User, user_id), course=None,
                             context=invitation_context(**context), dedupe_key=key)
        db.session.commit()
        return message.id


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return messages
