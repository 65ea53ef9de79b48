"""Sign-off: inviting supervisors, their single-use links, and decisions on weeks.
Every function checks its rule, changes, flushes and audits; the caller commits."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portfolio.audit.operations import record_event
from portfolio.cohort import standing
from portfolio.db import db, utcnow
from portfolio.errors import Conflict, InvalidTransition, ensure
from portfolio.evidence.models import Evidence
from portfolio.journal.models import Entry, EntryState
from portfolio.journal.operations import MAX_TASK_HOURS
from portfolio.people.models import Course, Membership, Role, User
from portfolio.signoff.models import Decision, DecisionKind, SignInLink, Supervision


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- what is decided on --------------------------------------------------------------


def content_hash(entry: Entry, evidence: list[Evidence] | None = None) -> str:
    """sha256 of exactly what a supervisor sees and decides on: week, revision,
    reflection, each task with its hours and objectives, and each evidence file.
    ``evidence``: the entry's files when the caller has just loaded them, in id order."""
    if evidence is None:
        evidence = db.session.scalars(sa.select(Evidence).where(Evidence.entry_id == entry.id).order_by(Evidence.id))
    document = {
        "entry": entry.id,
        "week": entry.week_start.isoformat(),
        "revision": entry.revision,
        "reflection": entry.reflection,
        "tasks": [{"description": t.description, "hours": f"{t.hours:.2f}",
                   "objectives": sorted(o.code for o in t.objectives)} for t in entry.tasks],
        "evidence": [{"name": e.original_name, "sha256": e.sha256} for e in evidence],
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --- supervisors and their links -------------------------------------------------------


def current_supervision(course_id: int, intern_id: int) -> Supervision | None:
    """The invited supervisor of an intern (LMS mentors come and go with their launches)."""
    return db.session.scalar(sa.select(Supervision).where(
        Supervision.course_id == course_id, Supervision.intern_id == intern_id, Supervision.ended_at.is_(None),
        Supervision.source == "invitation"))


def sync_mentor_scope(mentor: Membership, intern_ids: set[int]) -> None:
    """An LMS mentor supervises exactly the interns their latest launch names (role_scope_mentor)."""
    ensure(mentor.role is Role.supervisor)
    interns = set(db.session.scalars(sa.select(Membership.user_id).where(
        Membership.course_id == mentor.course_id, Membership.role == Role.intern, Membership.user_id.in_(intern_ids or {-1}))))
    current = {s.intern_id: s for s in db.session.scalars(sa.select(Supervision).where(
        Supervision.course_id == mentor.course_id, Supervision.supervisor_id == mentor.user_id,
        Supervision.source == "mentor", Supervision.ended_at.is_(None)))}
    for intern_id in interns - set(current):
        db.session.add(Supervision(course_id=mentor.course_id, intern_id=intern_id, supervisor_id=mentor.user_id,
                                   source="mentor"))
    for intern_id in set(current) - interns:
        current[intern_id].ended_at = utcnow()
    db.session.flush()
    if interns != set(current):
        record_event("supervisor.mentor_scope", actor=mentor.user, course=mentor.course, via="launch",
                     interns=sorted(interns))


def can_manage_supervisor(membership: Membership, intern_id: int) -> bool:
    """The intern (for themself) and the course's advisors invite, re-send, revoke or replace."""
    return membership.user_id == intern_id and membership.role is Role.intern or \
        membership.role in (Role.advisor, Role.admin)


def _supervisor_user(email: str, name: str, locale: str | None) -> User:
    """Supervisors without an LMS account are people of no platform, found by email."""
    user = db.session.scalar(sa.select(User).where(User.platform_id.is_(None),
                                                   sa.func.lower(User.email) == email.lower()).limit(1))
    if user is None:
        user = User(platform_id=None, email=email, name=name)
        db.session.add(user)
    user.name = name or user.name
    if locale:
        user.preferred_locale = locale
    db.session.flush()
    return user


@dataclass
class Invitation:
    supervision: Supervision
    token: str


def invite_supervisor(intern: Membership, *, name: str, email: str, locale: str | None, by: Membership) -> Invitation:
    """Invite (or replace) an intern's supervisor; replacing ends the old supervision and its links."""
    ensure(intern.role is Role.intern and intern.course_id == by.course_id)
    ensure(can_manage_supervisor(by, intern.user_id))
    email = email.strip()
    supervisor = _supervisor_user(email, name.strip(), locale)
    if supervisor.id == intern.user_id:
        raise InvalidTransition(_("An intern cannot supervise themself."))
    current = current_supervision(intern.course_id, intern.user_id)
    if current is not None and current.supervisor_id == supervisor.id:
        supervision = current
    else:
        if current is not None:
            end_supervision(current, by=by)
        supervision = Supervision(course_id=intern.course_id, intern_id=intern.user_id, supervisor_id=supervisor.id,
                                  invited_by_id=by.user_id, source="invitation")
        db.session.add(supervision)
        membership = db.session.scalar(sa.select(Membership).where(
            Membership.course_id == intern.course_id, Membership.user_id == supervisor.id))
        if membership is None:
            db.session.add(Membership(user=supervisor, course_id=intern.course_id, role=Role.supervisor))
        db.session.flush()
        record_event("supervisor.invited", by=by, subject=supervision, via="web",
                     intern_id=intern.user_id, supervisor_id=supervisor.id,
                     replaced=current.supervisor_id if current is not None else None)
    token = issue_link(supervision, by=by)
    return Invitation(supervision, token)


def issue_link(supervision: Supervision, *, by: Membership | None) -> str:
    """A fresh single-use link; earlier unused links of the same supervision stop working."""
    if by is not None:
        ensure(by.course_id == supervision.course_id and can_manage_supervisor(by, supervision.intern_id))
    if not supervision.is_current:
        raise InvalidTransition(_("This supervisor was replaced."))
    _revoke_open_links(supervision)
    token = secrets.token_urlsafe(32)
    ttl = timedelta(hours=current_app.config["SIGN_IN_LINK_HOURS"])
    db.session.add(SignInLink(token_hash=token_hash(token), supervision_id=supervision.id,
                              created_by_id=by.user_id if by else None, expires_at=utcnow() + ttl))
    db.session.flush()
    record_event("supervisor.link_issued", actor=by.user if by else None, course=db.session.get(Course, supervision.course_id),
                 subject=supervision, via="web" if by else "request")
    return token


def _revoke_open_links(supervision: Supervision) -> int:
    return db.session.execute(
        sa.update(SignInLink)
        .where(SignInLink.supervision_id == supervision.id, SignInLink.used_at.is_(None), SignInLink.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    ).rowcount


def revoke_links(supervision: Supervision, *, by: Membership) -> int:
    """The intern or an advisor can make every open link of a supervisor stop working."""
    ensure(by.course_id == supervision.course_id and can_manage_supervisor(by, supervision.intern_id))
    count = _revoke_open_links(supervision)
    db.session.flush()
    record_event("supervisor.links_revoked", by=by, subject=supervision, via="web",
                 count=count)
    return count


def end_supervision(supervision: Supervision, *, by: Membership) -> None:
    """A replaced or removed supervisor loses access to the intern, and their links die."""
    ensure(by.course_id == supervision.course_id and can_manage_supervisor(by, supervision.intern_id))
    supervision.ended_at = utcnow()
    _revoke_open_links(supervision)
    db.session.flush()
    record_event("supervisor.ended", by=by, subject=supervision, via="web",
                 supervisor_id=supervision.supervisor_id)


class LinkRefused(InvalidTransition):
    code = 410


def redeem_link(token: str) -> Supervision:
    """A link signs its supervisor in once, before it expires, while the supervision lasts."""
    link = db.session.scalar(sa.select(SignInLink).where(SignInLink.token_hash == token_hash(token or "")))
    if link is None or link.revoked_at is not None or not link.supervision.is_current:
        raise LinkRefused(_("This link is not valid any more. Ask for a new one below."))
    if link.used_at is not None:
        raise LinkRefused(_("This link was already used. Ask for a new one below."))
    if link.expires_at <= utcnow():
        raise LinkRefused(_("This link has expired. Ask for a new one below."))
    claimed = db.session.execute(sa.update(SignInLink).where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
                                 .values(used_at=utcnow()))
    if claimed.rowcount != 1:
        raise LinkRefused(_("This link was already used. Ask for a new one below."))
    supervision = link.supervision
    supervisor = db.session.get(User, supervision.supervisor_id)
    supervisor.last_seen_at = utcnow()
    db.session.flush()
    record_event("signed_in", actor=supervisor, course=db.session.get(Course, supervision.course_id),
                 subject=supervision, via="link", link_id=link.id)
    return supervision


def supervisions_for_email(email: str) -> list[Supervision]:
    """Current supervisions of the invited supervisor with this address (no LMS account)."""
    return list(db.session.scalars(
        sa.select(Supervision).join(User, User.id == Supervision.supervisor_id)
        .where(User.platform_id.is_(None), sa.func.lower(User.email) == email.strip().lower(),
               Supervision.ended_at.is_(None))
    ))


# --- decisions ---------------------------------------------------------------------------


def decide(entry: Entry, kind: DecisionKind, *, by: Membership, shown_hash: str, comment: str = "",
           hours: dict[int, Decimal] | None = None, via: str = "web") -> Decision:
    """The supervisor (or an advisor) decides on exactly the content they were shown, once
    per submission; sending back needs a comment; corrected hours apply before the hash."""
    ensure(entry.can_view(by))
    if entry.state is not EntryState.submitted:
        raise _already_decided(entry) or InvalidTransition(_("This week is not waiting for a decision."))
    ensure(entry.can_decide(by))
    evidence = list(db.session.scalars(sa.select(Evidence).where(Evidence.entry_id == entry.id).order_by(Evidence.id)))
    shown = content_hash(entry, evidence)
    if not secrets.compare_digest(shown_hash or "", shown):
        raise Conflict(_("This week changed after you opened it. Look at it again before you decide."))
    comment = (comment or "").strip()
    if kind is DecisionKind.changes_requested and not comment:
        raise InvalidTransition(_("Say what should change: the comment is required."))

    corrections = {}
    for position, value in (hours or {}).items():
        task = next((t for t in entry.tasks if t.position == position), None)
        if task is None or not (Decimal(0) < value <= MAX_TASK_HOURS):
            raise InvalidTransition(_("Corrected hours must be between 0 and 80."))
        if value != task.hours:
            corrections[str(position)] = {"from": f"{task.hours:.2f}", "to": f"{value:.2f}"}
            task.hours = value
    db.session.flush()

    decision = Decision(entry_id=entry.id, submission=entry.submissions, kind=kind, decided_by_id=by.user_id,
                        decided_by_name=by.user.display_name, comment=comment or None,
                        content_hash=content_hash(entry, evidence) if corrections else shown, via=via,
                        hours_corrections=corrections)
    try:
        with db.session.begin_nested():
            db.session.add(decision)
    except IntegrityError:
        raise _already_decided(entry) or Conflict()
    new_state = EntryState.approved if kind is DecisionKind.approved else EntryState.changes_requested
    moved = db.session.execute(
        sa.update(Entry).where(Entry.id == entry.id, Entry.state == EntryState.submitted,
                               Entry.submissions == decision.submission)
        .values(state=new_state, decided_at=decision.decided_at, decided_by_id=by.user_id,
                decision_comment=decision.comment)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise _already_decided(entry) or Conflict()
    standing.touch(db.session.connection(), [(entry.course_id, entry.intern_id)])
    # What the UPDATE wrote, read back; the tasks and objectives loaded above are unchanged.
    db.session.refresh(entry, ["state", "decided_at", "decided_by_id", "decision_comment", "updated_at"])
    record_event(f"entry.{new_state.value}", by=by, subject=entry, via=via,
                 revision=entry.revision, content_hash=decision.content_hash, corrections=corrections)
    return decision


def _already_decided(entry: Entry) -> Conflict | None:
    """The 409 that names who decided first, if somebody did."""
    found = db.session.scalar(sa.select(Decision).where(Decision.entry_id == entry.id)
                              .order_by(Decision.decided_at.desc()).limit(1))
    if found is None:
        return None
    what = _("approved") if found.kind is DecisionKind.approved else _("sent back")
    return Conflict(_("Already decided: %(who)s %(what)s this week on %(when)s.", who=found.decided_by_name,
                      what=what, when=found.decided_at.strftime("%Y-%m-%d %H:%M UTC")))
