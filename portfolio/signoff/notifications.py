"""The mails of sign-off, queued in the transaction of the change that causes them."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale, format_date

from portfolio.db import db
from portfolio.extensions import normalise_locale
from portfolio.journal.models import Entry
from portfolio.notify.operations import queue_mail
from portfolio.people.models import Course, User
from portfolio.signoff.models import Decision, DecisionKind, SignInLink, Supervision
from portfolio.signoff.operations import current_supervision, token_hash
from portfolio.urls import absolute_url


def _link_mail(kind: str, supervision: Supervision, token: str, inviter: User | None) -> None:
    link = db.session.scalar(sa.select(SignInLink).where(SignInLink.token_hash == token_hash(token)))
    course = db.session.get(Course, supervision.course_id)
    queue_mail(kind, to=supervision.supervisor, course=course, dedupe_key=f"{kind}:{link.id}", context={
        "supervisor_name": supervision.supervisor.display_name, "intern_name": supervision.intern.display_name,
        "course_title": course.display_title, "inviter_name": inviter.display_name if inviter else "",
        "action_url": absolute_url("signoff.confirm", token=token), "expires_at": link.expires_at,
    })


def invitation(supervision: Supervision, token: str, inviter: User) -> None:
    _link_mail("invitation", supervision, token, inviter)


def new_link(supervision: Supervision, token: str) -> None:
    _link_mail("sign_in_link", supervision, token, None)


def week_label(entry: Entry, reader: User) -> str:
    """The week as the reader's language writes dates."""
    with force_locale(normalise_locale(reader.effective_locale) or "en"):
        return format_date(entry.week_start, "medium")


def entry_submitted(entry: Entry) -> None:
    supervision = current_supervision(entry.course_id, entry.intern_id)
    if supervision is None:
        return
    queue_mail("entry_submitted", to=supervision.supervisor, course=db.session.get(Course, entry.course_id),
               dedupe_key=f"entry_submitted:{entry.id}:{entry.submissions}", context={
                   "supervisor_name": supervision.supervisor.display_name, "intern_name": entry.intern.display_name,
                   "week_label": week_label(entry, supervision.supervisor),
                   "action_url": absolute_url("signoff.queue", course_id=entry.course_id),
               })


def decision_made(entry: Entry, decision: Decision) -> None:
    queue_mail("decision", to=entry.intern, course=db.session.get(Course, entry.course_id),
               dedupe_key=f"decision:{decision.id}", context={
                   "intern_name": entry.intern.display_name, "week_label": week_label(entry, entry.intern),
                   "decision": "approved" if decision.kind is DecisionKind.approved else "changes_requested",
                   "comment": decision.comment, "decided_by_name": decision.decided_by_name,
                   "action_url": absolute_url("journal.show", course_id=entry.course_id, entry_id=entry.id),
               })
