"""Delivering the outbox. A job, not a request: it owns its transactions and commits
once per message, so a crash halfway loses at most the message being sent.

Each message is claimed with a conditional UPDATE (pending → sending) that only one
worker can win; while a message is ``sending``, its ``next_attempt_at`` records when it
was claimed, so one left behind by a dead worker is found and released after a while.
Transports: SMTP when ``SMTP_URL`` is set; else, with the sandbox on, the sandbox
mailbox (the row itself is the mail); else nothing, and the mail waits.
"""

from __future__ import annotations

import hashlib
import logging
import random
import smtplib
import ssl
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime as mail_date, parseaddr
from urllib.parse import parse_qs, unquote, urlsplit

import sqlalchemy as sa
from flask import current_app

from portfolio.db import db, utcnow
from portfolio.jobs import CLOCK_SKEW
from portfolio.notify.models import OutboxMessage, OutboxState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
STUCK_AFTER = timedelta(minutes=15)  # a claim older than this belongs to a dead worker
UNCONFIGURED_RETRY = timedelta(minutes=10)
SMTP_TIMEOUT = 10  # seconds, per socket operation
NOT_CONFIGURED = "no mail server configured"


class ServerUnreachable(Exception):
    """The mail server cannot be reached at all: the rest of the batch waits too."""


def deliver_due(now: datetime | None = None, limit: int = 50) -> int:
    """Send up to ``limit`` due messages, each claimed by one worker only; returns how many were sent."""
    now = now or utcnow()
    release_stuck(now)
    transport = _transport()
    if transport is None:
        _postpone_all(now)
        return 0
    due = db.session.scalars(
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.state == OutboxState.pending, OutboxMessage.next_attempt_at <= now + CLOCK_SKEW)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)
    ).all()
    db.session.commit()  # end the read, so every claim starts a fresh write transaction
    sent = 0
    for message_id in due:
        if not _claim(message_id, now):
            continue  # another worker took it
        message = db.session.get(OutboxMessage, message_id)
        try:
            if transport == "smtp":
                _send_smtp(message)
        except ServerUnreachable as error:
            _record_failure(message, error.__cause__ or error, now)
            db.session.commit()
            break
        except Exception as error:  # SMTP errors, timeouts, a mail that cannot be built: try later
            _record_failure(message, error, now)
        else:
            message.state, message.transport, message.sent_at, message.last_error = (
                OutboxState.sent, transport, utcnow(), None)
            sent += 1
        db.session.commit()
    return sent


def release_stuck(now: datetime) -> int:
    """Put back messages claimed more than STUCK_AFTER ago by a worker that never finished."""
    released = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.sending, OutboxMessage.next_attempt_at <= now - STUCK_AFTER)
        .values(state=OutboxState.pending, next_attempt_at=now, last_error="interrupted while sending")
    ).rowcount
    db.session.commit()
    return released


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2, 4 … up to 6 h after the n-th failure, plus up to 10 % jitter."""
    delay = min(LONGEST_RETRY, FIRST_RETRY * 2 ** (attempts - 1))
    return delay * random.uniform(1.0, 1.1)


def message_id_for(message: OutboxMessage) -> str:
    """Stable per outbox row: a resend after a crash carries the same Message-ID."""
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2] or "localhost"
    return f"<outbox.{message.id}.{digest}@{domain}>"


def build_email(message: OutboxMessage) -> EmailMessage:
    """The multipart/alternative mail of an outbox row: text first, HTML preferred."""
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Message-ID"] = message_id_for(message)
    email["Date"] = mail_date(utcnow())
    email["Content-Language"] = message.locale.replace("_", "-")
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    email.set_content(message.body_text, cte="quoted-printable")
    email.add_alternative(message.body_html, subtype="html", cte="quoted-printable")
    return email


def kick() -> None:
    """Deliver due mail once this response has been sent (``MAIL_DELIVERY = "after_response"``)."""
    from portfolio import jobs

    jobs.deliver_after_response("notify.deliver", deliver_due, setting="MAIL_DELIVERY")


def _transport() -> str | None:
    if current_app.config.get("SMTP_URL"):
        return "smtp"
    return "sandbox" if current_app.config.get("SANDBOX") else None


def _postpone_all(now: datetime) -> None:
    """Nowhere to send: due mail waits (not an attempt), and says why."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.state == OutboxState.pending, OutboxMessage.next_attempt_at <= now + CLOCK_SKEW)
        .values(last_error=NOT_CONFIGURED, next_attempt_at=now + UNCONFIGURED_RETRY)
    )
    db.session.commit()


def _claim(message_id: int, now: datetime) -> bool:
    """pending and due → sending, for exactly one worker; commits so the others see it."""
    claimed = db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == OutboxState.pending,
               OutboxMessage.next_attempt_at <= now + CLOCK_SKEW)  # not rescheduled by another worker meanwhile
        .values(state=OutboxState.sending, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return claimed


def _record_failure(message: OutboxMessage, error: BaseException, now: datetime) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if message.attempts >= MAX_ATTEMPTS:
        message.state = OutboxState.failed
        log.error("mail %s failed for good after %s attempts: %s", message.id, message.attempts, message.last_error)
    else:
        message.state = OutboxState.pending
        message.next_attempt_at = now + retry_delay(message.attempts)
        log.warning("mail %s not sent (attempt %s): %s", message.id, message.attempts, message.last_error)


def _send_smtp(message: OutboxMessage) -> None:
    """One connection per message: ``smtp[s]://user:password@host:port[?starttls=1]``."""
    url = urlsplit(current_app.config["SMTP_URL"])
    starttls = parse_qs(url.query).get("starttls", ["0"])[0].lower() in {"1", "true", "yes", "on"}
    host = url.hostname or "localhost"
    email = build_email(message)
    try:
        if url.scheme == "smtps":
            server = smtplib.SMTP_SSL(host, url.port or 465, timeout=SMTP_TIMEOUT,
                                      context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(host, url.port or 25, timeout=SMTP_TIMEOUT)
    except (OSError, smtplib.SMTPConnectError) as error:
        raise ServerUnreachable() from error
    with server:
        if starttls:
            server.starttls(context=ssl.create_default_context())
        if url.username:
            server.login(unquote(url.username), unquote(url.password or ""))
        server.send_message(email)
