"""Queueing mail. A mail is rendered once, in its recipient's language and time zone,
and written to the outbox in the transaction of the change that causes it: if that
change rolls back, so does the mail; if it commits, the mail will be delivered."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import get_datetime_format
from flask import render_template
from flask_babel import force_locale, format_date, format_time, get_locale

from portfolio.db import db, upsert_insert, utcnow
from portfolio.extensions import normalise_locale
from portfolio.notify.models import OutboxMessage, OutboxState
from portfolio.people.models import Course, User

KINDS = {"invitation", "sign_in_link", "entry_submitted", "decision", "digest", "reminder"}


def zone_of(name: str | None) -> ZoneInfo:
    """An IANA zone by name; UTC when the name is missing or unknown."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def render_mail(kind: str, context: dict, *, locale: str, timezone: str | None) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one mail, in ``locale``; times shown in ``timezone``."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    zone = zone_of(timezone)

    def when(moment: datetime | None) -> str:
        if moment is None:
            return ""
        local = moment.astimezone(zone)  # the language's medium date and short time, in its order
        pattern = get_datetime_format("medium", locale=get_locale())
        return (pattern.replace("{1}", format_date(local.date(), "medium"))
                .replace("{0}", format_time(local, "short", rebase=False)) + f" ({zone.key})")

    values = {**context, "lang": locale.replace("_", "-"), "when": when}
    with force_locale(locale):
        subject = render_template(f"notify/{kind}.subject.txt", **values)
        subject = " ".join(subject.split())[:255]  # one header line, whatever the names contain
        text = render_template(f"notify/{kind}.txt", **values, subject=subject)
        html = render_template(f"notify/{kind}.html", **values, subject=subject)
    return subject, text, html


def queue_mail(kind: str, *, to: User, course: Course | None, context: dict, dedupe_key: str,
               locale: str | None = None) -> OutboxMessage | None:
    """Queue one mail to a person, once per ``dedupe_key``; people without an address get none."""
    address = (to.email or "").strip()
    if "@" not in address or any(c.isspace() for c in address):
        return None
    locale = normalise_locale(locale or to.effective_locale) or "en"
    subject, text, html = render_mail(kind, context, locale=locale, timezone=to.effective_timezone)
    # INSERT … ON CONFLICT DO NOTHING: a duplicate is skipped without an error or a savepoint,
    # even when two transactions queue the same key at the same moment.
    insert = upsert_insert(OutboxMessage, db.session.get_bind().dialect.name)
    statement = insert.values(
        kind=kind, dedupe_key=dedupe_key, course_id=course.id if course else None, recipient_id=to.id,
        recipient=address, subject=subject, body_text=text, body_html=html, locale=locale,
        state=OutboxState.pending, attempts=0, next_attempt_at=utcnow(),
    ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxMessage)
    return db.session.scalar(statement)  # the queued row as an object, from the INSERT itself
