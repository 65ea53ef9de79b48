"""The data lifecycle of a person and of a course.

* ``export_person``: everything the tool holds about one person as a zip (``person.json``
  plus their evidence files and, for interns, their portfolio PDF). ``COVERAGE`` names,
  for every table with a column pointing at a user, the exporter that covers it; a test
  fails when a new table is in neither ``COVERAGE`` nor ``EXCLUDED``.
* ``erase_person``: the person's own content is deleted; what others need (a
  supervisor's decisions on an intern's weeks, an intern's grade) stays under a
  pseudonym, with the free text the person wrote or that names them removed.
* Retention: ``archive_course`` writes each intern's PDF and data zip under
  ``STORAGE_DIR/archives/``; only then may ``purge_course`` delete the course's personal
  data. ``plan_retention`` says what a run would do and changes nothing.

Functions flush and audit; the caller (view or CLI) commits.
"""

from __future__ import annotations

import enum
import hashlib
import io
import json
import logging
import re
import secrets
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Callable

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portfolio.audit.models import AuditEvent
from portfolio.audit.operations import allow_maintenance, record_event
from portfolio.cohort import standing
from portfolio.db import db, utcnow
from portfolio.errors import InvalidTransition, ensure
from portfolio.evidence import storage
from portfolio.evidence.models import Evidence
from portfolio.export.models import Export, ExportJob, Scope
from portfolio.grading.models import Grade, Mark, ScoreDelivery
from portfolio.journal.models import Entry, Task, task_objective
from portfolio.notify.models import OutboxMessage
from portfolio.people.models import Course, Membership, Role, User
from portfolio.placements.models import Placement
from portfolio.privacy import queries
from portfolio.privacy.models import (NOTICE_VERSION, CourseArchive, CourseRetention,
                                      PrivacyAcknowledgement)
from portfolio.signoff.models import Decision, SignInLink, Supervision

log = logging.getLogger(__name__)

EXPORT_SCHEMA = "internship-portfolio/person/1"
ERASED = "[erased]"
# Never part of an export: they let someone act as the person, they are not about them.
SECRET_COLUMNS = {"token_hash", "private_key_pem", "token"}


# --- who may ------------------------------------------------------------------------------------


def is_platform_admin(membership: Membership | None) -> bool:
    """An admin answers for every course and person of their course's platform."""
    return membership is not None and membership.role is Role.admin


def can_export_person(membership: Membership | None, user: User) -> bool:
    """The person themselves, or an admin of a platform the person has a course on."""
    if membership is None:
        return False
    if membership.user_id == user.id:
        return True
    return is_platform_admin(membership) and _in_platform(user, membership.course.platform_id)


def can_erase_person(membership: Membership | None, user: User) -> bool:
    """Only an admin of the person's platform erases, and never themselves by mistake."""
    return (is_platform_admin(membership) and membership.user_id != user.id
            and _in_platform(user, membership.course.platform_id))


def _in_platform(user: User, platform_id: int) -> bool:
    return db.session.scalar(queries.person_in_platform(platform_id, user.id)) is not None


# --- the privacy notice -------------------------------------------------------------------------


def notice_due(user: User, membership: Membership | None, acknowledged: bool | None = None) -> bool:
    """Interns and supervisors see the current notice until they acknowledge it
    (``acknowledged``: already read with the person, else looked up)."""
    from portfolio.privacy.models import NOTICE_ROLES

    if membership is None or membership.role not in NOTICE_ROLES:
        return False
    if acknowledged is None:
        acknowledged = db.session.scalar(queries.acknowledgement(user.id, NOTICE_VERSION)) is not None
    return not acknowledged


def acknowledge_notice(user: User, membership: Membership | None = None,
                       version: str = NOTICE_VERSION) -> PrivacyAcknowledgement:
    """Record that the person read this version of the notice; a second time changes nothing."""
    found = db.session.scalar(queries.acknowledgement(user.id, version))
    if found is not None:
        return found
    acknowledgement = PrivacyAcknowledgement(user_id=user.id, version=version)
    db.session.add(acknowledgement)
    db.session.flush()
    record_event("privacy.acknowledged", actor=user, course=membership.course if membership else None,
                 subject=acknowledgement, about=user, via="web", version=version)
    return acknowledgement


# --- export -------------------------------------------------------------------------------------


def _value(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_dict(obj, only: tuple[str, ...] | None = None) -> dict:
    """Every column of a row (or ``only`` these), as JSON values, secrets left out."""
    table = obj.__table__
    names = only or tuple(c.key for c in table.columns)
    return {name: _value(getattr(obj, name)) for name in names if name not in SECRET_COLUMNS}


@dataclass
class Bundle:
    """What an export collects: the JSON sections and the files to put beside them."""

    user: User
    course_ids: set[int] | None = None  # None: every course
    files: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def in_scope(self, column):
        return sa.true() if self.course_ids is None else column.in_(self.course_ids or {-1})


def _scalars(stmt) -> list:
    return list(db.session.scalars(stmt))


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")[:80] or "file"


def _export_memberships(b: Bundle) -> list[dict]:
    rows = _scalars(sa.select(Membership).where(Membership.user_id == b.user.id, b.in_scope(Membership.course_id))
                    .order_by(Membership.id))
    return [{**row_dict(m), "course_title": m.course.display_title} for m in rows]


def _export_placements(b: Bundle) -> list[dict]:
    return [row_dict(p) for p in _scalars(sa.select(Placement).where(
        Placement.intern_id == b.user.id, b.in_scope(Placement.course_id)).order_by(Placement.id))]


def _evidence_dict(b: Bundle, item: Evidence) -> dict:
    data = row_dict(item)
    try:
        path = storage.path_for(item.stored_name)
    except ValueError:
        path = None
    if path is not None and path.is_file():
        name = f"files/evidence/{item.id}-{_safe_name(item.original_name)}"
        b.files[name] = path
        data["file"] = name
    else:
        data["file"] = None
    return data


def _export_entries(b: Bundle) -> list[dict]:
    """Every revision of the person's weeks with tasks, evidence and the decisions on them;
    weeks of others the person decided on, only as far as the decision goes."""
    own = _scalars(sa.select(Entry).where(Entry.intern_id == b.user.id, b.in_scope(Entry.course_id))
                   .order_by(Entry.course_id, Entry.week_start, Entry.revision))
    decisions: dict[int, list[Decision]] = {}
    for decision in _scalars(sa.select(Decision).where(Decision.entry_id.in_([e.id for e in own] or [-1]))
                             .order_by(Decision.id)):
        decisions.setdefault(decision.entry_id, []).append(decision)
    rows = []
    for entry in own:
        rows.append({
            **row_dict(entry),
            "tasks": [{**row_dict(t), "objectives": [o.code for o in t.objectives]} for t in entry.tasks],
            "evidence": [_evidence_dict(b, item) for item in entry.evidence],
            "decisions": [row_dict(d) for d in decisions.get(entry.id, [])],
        })
    decided = _scalars(sa.select(Entry).where(Entry.decided_by_id == b.user.id, Entry.intern_id != b.user.id,
                                              b.in_scope(Entry.course_id)).order_by(Entry.id))
    rows += [row_dict(e, ("id", "course_id", "week_start", "revision", "state", "decided_at", "decided_by_id",
                          "decision_comment")) for e in decided]
    return rows


def _export_evidence(b: Bundle) -> list[dict]:
    """Files the person uploaded (their own weeks' files are also listed with the weeks)."""
    rows = _scalars(sa.select(Evidence).join(Entry, Entry.id == Evidence.entry_id)
                    .where(sa.or_(Evidence.uploaded_by_id == b.user.id, Entry.intern_id == b.user.id),
                           b.in_scope(Entry.course_id)).order_by(Evidence.id))
    return [_evidence_dict(b, item) for item in rows]


def _export_decisions(b: Bundle) -> list[dict]:
    """Decisions the person made on others' weeks, and those on their own."""
    rows = _scalars(sa.select(Decision).join(Entry, Entry.id == Decision.entry_id)
                    .where(sa.or_(Decision.decided_by_id == b.user.id, Entry.intern_id == b.user.id),
                           b.in_scope(Entry.course_id)).order_by(Decision.id))
    return [row_dict(d) for d in rows]


def _export_supervisions(b: Bundle) -> list[dict]:
    uid = b.user.id
    rows = _scalars(sa.select(Supervision).where(
        sa.or_(Supervision.intern_id == uid, Supervision.supervisor_id == uid, Supervision.invited_by_id == uid),
        b.in_scope(Supervision.course_id)).order_by(Supervision.id))
    return [row_dict(s) for s in rows]


def _export_sign_in_links(b: Bundle) -> list[dict]:
    uid = b.user.id
    rows = _scalars(sa.select(SignInLink).join(Supervision, Supervision.id == SignInLink.supervision_id).where(
        sa.or_(SignInLink.created_by_id == uid, Supervision.supervisor_id == uid),
        b.in_scope(Supervision.course_id)).order_by(SignInLink.id))
    return [row_dict(link) for link in rows]


def _export_grades(b: Bundle) -> list[dict]:
    """The person's own grades in full; grades they gave or released, as that act only."""
    uid = b.user.id
    rows = []
    for grade in _scalars(sa.select(Grade).where(Grade.intern_id == uid, b.in_scope(Grade.course_id))
                          .order_by(Grade.id)):
        rows.append({**row_dict(grade), "marks": [row_dict(m) for m in grade.marks],
                     "delivery": row_dict(grade.delivery) if grade.delivery else None})
    for grade in _scalars(sa.select(Grade).where(
            Grade.intern_id != uid, sa.or_(Grade.graded_by_id == uid, Grade.released_by_id == uid),
            b.in_scope(Grade.course_id)).order_by(Grade.id)):
        rows.append(row_dict(grade, ("id", "course_id", "graded_by_id", "released_by_id", "updated_at",
                                     "released_at")))
    return rows


def _export_exports(b: Bundle) -> list[dict]:
    return [row_dict(e) for e in _scalars(sa.select(Export).where(
        Export.intern_id == b.user.id, b.in_scope(Export.course_id)).order_by(Export.id))]


def _export_export_jobs(b: Bundle) -> list[dict]:
    uid = b.user.id
    return [row_dict(j) for j in _scalars(sa.select(ExportJob).where(
        sa.or_(ExportJob.requested_by_id == uid, ExportJob.intern_id == uid),
        b.in_scope(ExportJob.course_id)).order_by(ExportJob.id))]


def _export_outbox(b: Bundle) -> list[dict]:
    return [row_dict(m) for m in _scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient_id == b.user.id,
        sa.or_(OutboxMessage.course_id.is_(None), b.in_scope(OutboxMessage.course_id))).order_by(OutboxMessage.id))]


def _export_audit(b: Bundle) -> list[dict]:
    uid = b.user.id
    return [row_dict(e) for e in _scalars(sa.select(AuditEvent).where(
        sa.or_(AuditEvent.actor_id == uid, AuditEvent.about_id == uid,
               sa.and_(AuditEvent.subject_type == "User", AuditEvent.subject_id == uid)),
        sa.or_(AuditEvent.course_id.is_(None), b.in_scope(AuditEvent.course_id))).order_by(AuditEvent.id))]


def _export_launch_tickets(b: Bundle) -> list[dict]:
    # Declared by table: the model lives in lti/, which the application never imports.
    table = db.metadata.tables["lti_launch_ticket"]
    rows = db.session.execute(sa.select(table).where(table.c.user_id == b.user.id,
                                                     b.in_scope(table.c.course_id)).order_by(table.c.id)).mappings()
    return [{k: _value(v) for k, v in row.items() if k not in SECRET_COLUMNS} for row in rows]


def _export_acknowledgements(b: Bundle) -> list[dict]:
    return [row_dict(a) for a in _scalars(sa.select(PrivacyAcknowledgement).where(
        PrivacyAcknowledgement.user_id == b.user.id).order_by(PrivacyAcknowledgement.id))]


# Every table with a column that points at a user → (section of person.json, exporter).
COVERAGE: dict[str, tuple[str, Callable[[Bundle], list[dict]]]] = {
    "membership": ("memberships", _export_memberships),
    "placement": ("placements", _export_placements),
    "entry": ("entries", _export_entries),
    "evidence": ("evidence", _export_evidence),
    "decision": ("decisions", _export_decisions),
    "supervision": ("supervisions", _export_supervisions),
    "sign_in_link": ("sign_in_links", _export_sign_in_links),
    "grade": ("grades", _export_grades),
    "export": ("exports", _export_exports),
    "export_job": ("export_jobs", _export_export_jobs),
    "outbox_message": ("mails", _export_outbox),
    "audit_event": ("audit_events", _export_audit),
    "lti_launch_ticket": ("launch_tickets", _export_launch_tickets),
    "privacy_acknowledgement": ("privacy_acknowledgements", _export_acknowledgements),
}
# Tables pointing at a user that an export leaves out on purpose, each with the reason.
EXCLUDED: dict[str, str] = {
    "intern_standing": "counts computed from the entries and the placement, which the export carries; "
                       "erasure and retention clear them",
}


def person_document(user: User, course_ids: set[int] | None = None) -> tuple[dict, dict[str, Path]]:
    """``person.json`` and the files it names (zip path → stored file)."""
    bundle = Bundle(user=user, course_ids=course_ids)
    document = {
        "schema": EXPORT_SCHEMA,
        "generated_at": utcnow().isoformat(),
        "courses": sorted(course_ids) if course_ids is not None else "all",
        "person": row_dict(user),
    }
    for _table, (section, exporter) in COVERAGE.items():
        document[section] = exporter(bundle)
    document["notes"] = bundle.notes
    return document, bundle.files


def _portfolio_pdfs(user: User, course_ids: set[int] | None) -> tuple[dict[str, Path], list[dict]]:
    """The intern's portfolio PDF of each course, rendered through the export feature."""
    from portfolio.export.operations import file_path, render_export

    files, listed = {}, []
    stmt = sa.select(Membership).where(Membership.user_id == user.id, Membership.role == Role.intern)
    if course_ids is not None:
        stmt = stmt.where(Membership.course_id.in_(course_ids or {-1}))
    for membership in _scalars(stmt.order_by(Membership.course_id)):
        try:
            export = render_export(membership.course, user, Scope.everything)
        except Exception as error:  # a PDF that cannot be made must not block an access request
            log.warning("privacy: no portfolio PDF for user %s in course %s: %s", user.id, membership.course_id, error)
            listed.append({"course_id": membership.course_id, "file": None, "error": type(error).__name__})
            continue
        name = f"files/portfolio-course-{membership.course_id}.pdf"
        files[name] = file_path(export.file_name)
        listed.append({"course_id": membership.course_id, "file": name, "sha256": export.pdf_sha256})
    return files, listed


def build_person_zip(user: User, course_ids: set[int] | None = None, *, with_pdf: bool = True) -> bytes:
    document, files = person_document(user, course_ids)
    if with_pdf:
        pdfs, listed = _portfolio_pdfs(user, course_ids)
        files.update(pdfs)
        document["portfolio_pdfs"] = listed
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("person.json", json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True))
        for name, path in sorted(files.items()):
            archive.write(path, name)
    return buffer.getvalue()


def export_person(user: User, *, by: Membership | None = None, via: str = "web", with_pdf: bool = True) -> bytes:
    """Everything the tool holds about one person, as a zip."""
    course_ids = None
    if by is not None:
        ensure(can_export_person(by, user))
        if by.user_id != user.id:  # an admin answers for their platform's courses, not another's
            course_ids = set(db.session.scalars(sa.select(Course.id).where(
                Course.platform_id == by.course.platform_id)))
    data = build_person_zip(user, course_ids, with_pdf=with_pdf)
    record_event("person.exported", actor=by.user if by else None, course=by.course if by else None,
                 subject=user, about=user, via=via, size=len(data))
    return data


# --- erasure ------------------------------------------------------------------------------------


def pseudonym(user_id: int) -> str:
    return f"Erased person #{user_id}"


_IDENTIFIER = re.compile(r"[0-9a-f]{32,}|\d{4}-\d{2}-\d{2}([T ][0-9:.+-]+)?")
# Detail keys whose values are codes of the product, never a person's words.
_SAFE_KEYS = {"scope", "state", "previous", "previous_state", "direction", "week", "content_hash", "version",
              "action", "message_type", "via", "kind", "source"}


def _scrub(value, tokens: list[str], strict: bool, key: str | None = None):
    """Detail values with the person's words replaced: with ``strict``, every free string."""
    if isinstance(value, dict):
        return {k: _scrub(v, tokens, strict, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v, tokens, strict, key) for v in value]
    if isinstance(value, str):
        lowered = value.casefold()
        if any(t in lowered for t in tokens):
            return ERASED
        if strict and key not in _SAFE_KEYS and not _IDENTIFIER.fullmatch(value):
            return ERASED
    return value


def _replace_tokens(text: str | None, tokens: list[str]) -> str | None:
    if not text:
        return text
    for token in tokens:
        text = re.sub(re.escape(token), ERASED, text, flags=re.IGNORECASE)
    return text


def _tokens(user: User, extra: list[str] | None = None) -> list[str]:
    """What identifies the person in free text: their name, each part of it, email, LTI id.

    Parts of a name match more than the person (over-scrubbing audit details and mails
    of their own courses is the safe side); parts under three letters are left alone."""
    words = (user.name or "").split()
    found = [user.name, user.email, user.lti_sub, *words, *(extra or [])]
    return sorted({t.casefold() for t in found if t and len(t) >= 3}, key=len, reverse=True)


def _delete_entries(entry_ids: list[int]) -> int:
    """Weeks with everything hanging off them, and their files once no row names them."""
    if not entry_ids:
        return 0
    names = set()
    for stored, thumb in db.session.execute(sa.select(Evidence.stored_name, Evidence.thumbnail_name)
                                            .where(Evidence.entry_id.in_(entry_ids))):
        names.update(n for n in (stored, thumb) if n)
    task_ids = sa.select(Task.id).where(Task.entry_id.in_(entry_ids))
    db.session.execute(sa.delete(task_objective).where(task_objective.c.task_id.in_(task_ids)))
    for model in (Decision, Evidence, Task):
        db.session.execute(sa.delete(model).where(model.entry_id.in_(entry_ids)).execution_options(
            synchronize_session=False))
    db.session.execute(sa.delete(Entry).where(Entry.id.in_(entry_ids)).execution_options(synchronize_session=False))
    db.session.flush()
    for name in names:
        storage.delete_if_unreferenced(name)
    return len(entry_ids)


def _delete_supervisions(supervision_ids: list[int]) -> None:
    if supervision_ids:
        db.session.execute(sa.delete(SignInLink).where(SignInLink.supervision_id.in_(supervision_ids)))
        db.session.execute(sa.delete(Supervision).where(Supervision.id.in_(supervision_ids)))


def _delete_grades(grade_ids: list[int]) -> None:
    if grade_ids:
        for model in (Mark, ScoreDelivery):
            db.session.execute(sa.delete(model).where(model.grade_id.in_(grade_ids)))
        db.session.execute(sa.delete(Grade).where(Grade.id.in_(grade_ids)))


def _delete_exports(export_ids: list[int]) -> None:
    from portfolio.export.operations import file_path

    if not export_ids:
        return
    for name in db.session.scalars(sa.select(Export.file_name).where(Export.id.in_(export_ids))):
        file_path(name).unlink(missing_ok=True)
    db.session.execute(sa.update(ExportJob).where(ExportJob.export_id.in_(export_ids)).values(export_id=None))
    db.session.execute(sa.delete(Export).where(Export.id.in_(export_ids)))


def _drop_rendered_files(course_ids: set[int]) -> None:
    """PDFs and cohort zips are caches of the courses' data: after a change to who is
    named in them, they are rendered again on the next request."""
    from portfolio.export.operations import file_path

    for name in db.session.scalars(sa.select(Export.file_name).where(Export.course_id.in_(course_ids or {-1}))):
        file_path(name).unlink(missing_ok=True)
    for job in _scalars(sa.select(ExportJob).where(ExportJob.course_id.in_(course_ids or {-1}),
                                                   ExportJob.file_name.is_not(None))):
        file_path(job.file_name).unlink(missing_ok=True)
        job.file_name = None


def _delete_archives(stmt_filter) -> None:
    for archive in _scalars(sa.select(CourseArchive).where(stmt_filter)):
        archive_path(archive.file_name).unlink(missing_ok=True)
        db.session.delete(archive)


def _scrub_audit(events, tokens: list[str], about_ids: set[int]) -> int:
    changed = 0
    for event in events:
        strict = event.actor_id in about_ids or event.about_id in about_ids
        details = _scrub(event.details or {}, tokens, strict)
        if details != (event.details or {}):
            event.details = details
            changed += 1
    return changed


def erase_person(user: User, *, by: Membership | None = None, via: str = "web", keep_archives: bool = False) -> dict:
    """Delete the person's own content and pseudonymise what others still need.

    Kept, under the pseudonym: their memberships, a supervisor's decisions (comment
    removed), an intern's grade (feedback removed), the audit trail (their words removed).
    """
    if by is not None:
        ensure(can_erase_person(by, user))
        elsewhere = db.session.scalar(sa.select(sa.func.count(Membership.id)).join(
            Course, Course.id == Membership.course_id).where(Membership.user_id == user.id,
                                                             Course.platform_id != by.course.platform_id))
        if elsewhere:  # one platform's admin does not erase what another platform answers for
            raise InvalidTransition(_("This person also belongs to courses of another LMS platform: "
                                      "erase them with the command line."))
    if user.lti_sub and user.lti_sub.startswith("erased-") and user.name == pseudonym(user.id):
        raise InvalidTransition(_("This person was erased already."))
    allow_maintenance()
    uid, now = user.id, utcnow()
    # Comments they wrote on others' weeks are theirs too: mails and the trail may quote them.
    written = [c for c in db.session.scalars(sa.select(Decision.comment).where(
        Decision.decided_by_id == uid, Decision.comment.is_not(None))) if len(c) >= 8]
    tokens = _tokens(user, written)
    course_ids = set(db.session.scalars(sa.select(Membership.course_id).where(Membership.user_id == uid)))
    counts: dict[str, int] = {}

    # An intern's own weeks, placement, supervisions, PDFs and archives go.
    entry_ids = list(db.session.scalars(sa.select(Entry.id).where(Entry.intern_id == uid)))
    counts["entries"] = _delete_entries(entry_ids)
    counts["placements"] = db.session.execute(sa.delete(Placement).where(Placement.intern_id == uid)).rowcount
    standing.forget(db.session.connection(), intern_id=uid)
    _delete_supervisions(list(db.session.scalars(sa.select(Supervision.id).where(Supervision.intern_id == uid))))
    _delete_exports(list(db.session.scalars(sa.select(Export.id).where(Export.intern_id == uid))))
    db.session.execute(sa.delete(ExportJob).where(sa.or_(ExportJob.intern_id == uid, ExportJob.requested_by_id == uid)))
    _drop_rendered_files(course_ids)
    if not keep_archives:  # retention erases the people it just archived: that archive stays
        _delete_archives(CourseArchive.intern_ref == uid)

    # An intern's grade stays (the gradebook has it), without the words about them.
    for grade in _scalars(sa.select(Grade).where(Grade.intern_id == uid)):
        grade.comment = ""
        for mark in grade.marks:
            mark.feedback = ""
        if grade.delivery is not None:
            grade.delivery.comment, grade.delivery.last_error = None, None
    # Grades the person gave stay with their score; only their name goes from the text.
    for grade in _scalars(sa.select(Grade).where(sa.or_(Grade.graded_by_id == uid, Grade.released_by_id == uid))):
        grade.comment = _replace_tokens(grade.comment, tokens) or ""
        for mark in grade.marks:
            mark.feedback = _replace_tokens(mark.feedback, tokens) or ""

    # A supervisor's decisions stay on the intern's weeks, with a pseudonym and no comment.
    decisions = _scalars(sa.select(Decision).where(Decision.decided_by_id == uid))
    for decision in decisions:
        decision.decided_by_name = pseudonym(uid)
        decision.comment = ERASED if decision.comment else decision.comment
    for entry in _scalars(sa.select(Entry).where(Entry.decided_by_id == uid)):
        entry.decision_comment = ERASED if entry.decision_comment else entry.decision_comment
    counts["decisions_kept"] = len(decisions)
    for supervision in _scalars(sa.select(Supervision).where(Supervision.supervisor_id == uid)):
        supervision.ended_at = supervision.ended_at or now
        db.session.execute(sa.delete(SignInLink).where(SignInLink.supervision_id == supervision.id))

    # Mail to them, or naming them, is not sent any more and not kept.
    mails = _scalars(sa.select(OutboxMessage).where(sa.or_(
        OutboxMessage.recipient_id == uid, OutboxMessage.course_id.in_(course_ids or {-1}),
        OutboxMessage.course_id.is_(None))))
    counts["mails"] = 0
    for mail in mails:
        text = " ".join((mail.recipient, mail.subject, mail.body_text, mail.body_html)).casefold()
        if mail.recipient_id == uid or any(t in text for t in tokens):
            db.session.delete(mail)
            counts["mails"] += 1
    table = db.metadata.tables["lti_launch_ticket"]
    db.session.execute(sa.delete(table).where(table.c.user_id == uid))

    # The trail keeps what happened, not their words.
    events = _scalars(sa.select(AuditEvent).where(sa.or_(
        AuditEvent.actor_id == uid, AuditEvent.about_id == uid, AuditEvent.course_id.in_(course_ids or {-1}),
        sa.and_(AuditEvent.subject_type == "User", AuditEvent.subject_id == uid))))
    counts["audit_events_scrubbed"] = _scrub_audit(events, tokens, {uid})

    user.name = pseudonym(uid)
    user.email = user.locale = user.timezone = user.preferred_locale = user.preferred_timezone = None
    user.lti_sub = f"erased-{secrets.token_hex(16)}"  # a relaunch from the LMS makes a new person
    user.last_seen_at = None
    db.session.flush()
    record_event("person.erased", actor=by.user if by else None, course=by.course if by else None,
                 subject=user, about=user, via=via, **counts)
    return counts


# --- retention ----------------------------------------------------------------------------------


def archive_root() -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "archives"


def archive_path(file_name: str) -> Path:
    """Only names this module made: ``course-<n>/intern-<n>-(portfolio.pdf|data.zip)``."""
    if not re.fullmatch(r"course-\d+/intern-\d+-(portfolio\.pdf|data\.zip)", file_name or ""):
        raise ValueError("not an archive file name")
    return archive_root() / file_name


def course_end(course: Course, retention: CourseRetention | None) -> date | None:
    """The admin's date when set, else the last day of the course's latest placement."""
    if retention is not None and retention.course_end is not None:
        return retention.course_end
    return db.session.scalar(queries.latest_placement_end(course.id))


def set_retention(course: Course, *, keep_days: int, course_end_date: date | None, by: Membership | None = None,
                  via: str = "web") -> CourseRetention:
    """How many days after its end the course's data is kept (0 to 36500)."""
    if by is not None:
        ensure(CourseRetention.can_manage(by) and by.course.platform_id == course.platform_id)
    if not 0 <= keep_days <= 36500:
        raise ValueError("keep_days must be between 0 and 36500")
    retention = db.session.scalar(queries.retention_of(course.id))
    if retention is None:
        retention = CourseRetention(course_id=course.id)
        db.session.add(retention)
    before = (retention.keep_days, retention.course_end)
    retention.keep_days, retention.course_end = keep_days, course_end_date
    db.session.flush()
    record_event("retention.set", actor=by.user if by else None, course=course, subject=retention, via=via,
                 keep_days=keep_days, course_end=course_end_date.isoformat() if course_end_date else None,
                 before_keep_days=before[0])
    return retention


def _interns(course_id: int) -> list[User]:
    return _scalars(sa.select(User).join(Membership, Membership.user_id == User.id)
                    .where(Membership.course_id == course_id, Membership.role == Role.intern).order_by(User.id))


def _write(name: str, data: bytes) -> tuple[int, str]:
    path = archive_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)
    return len(data), hashlib.sha256(data).hexdigest()


def archive_course(course: Course, *, via: str = "cli") -> list[CourseArchive]:
    """Each intern's portfolio PDF and data zip into the storage; replaces earlier archives."""
    from portfolio.export.operations import file_path, render_export

    retention = db.session.scalar(queries.retention_of(course.id))
    if retention is None:
        raise InvalidTransition(_("This course has no retention setting."))
    _delete_archives(CourseArchive.course_id == course.id)
    written = []
    for intern in _interns(course.id):
        base = f"course-{course.id}/intern-{intern.id}"
        note = None
        try:
            pdf = file_path(render_export(course, intern, Scope.everything).file_name).read_bytes()
        except Exception as error:  # the data zip still goes to the archive; the listing says why
            log.warning("privacy: archive of course %s: no PDF for intern %s: %s", course.id, intern.id, error)
            pdf, note = None, f"PDF not rendered: {type(error).__name__}"
        if pdf is not None:
            size, digest = _write(f"{base}-portfolio.pdf", pdf)
            written.append(CourseArchive(course_id=course.id, intern_ref=intern.id, kind="pdf",
                                         file_name=f"{base}-portfolio.pdf", size=size, sha256=digest))
        size, digest = _write(f"{base}-data.zip", build_person_zip(intern, {course.id}, with_pdf=False))
        written.append(CourseArchive(course_id=course.id, intern_ref=intern.id, kind="data",
                                     file_name=f"{base}-data.zip", size=size, sha256=digest, note=note))
    db.session.add_all(written)
    retention.archived_at = utcnow()
    db.session.flush()
    record_event("course.archived", course=course, subject=retention, via=via,
                 interns=len({a.intern_ref for a in written}), files=len(written))
    return written


def purge_course(course: Course, *, via: str = "cli") -> dict:
    """Delete the course's personal data; refused unless the course was archived first.

    People left with no course are erased (pseudonymised); people with other courses
    keep those. The course row, its objectives, rubric and the archive list stay."""
    retention = db.session.scalar(queries.retention_of(course.id))
    if retention is None or retention.archived_at is None:
        raise InvalidTransition(_("A course is archived before its data is deleted."))
    archived = set(db.session.scalars(sa.select(CourseArchive.intern_ref).where(
        CourseArchive.course_id == course.id, CourseArchive.kind == "data")))
    missing = [u.id for u in _interns(course.id) if u.id not in archived]
    if missing:
        raise InvalidTransition(_("%(count)s interns have no archive yet.", count=len(missing)))
    allow_maintenance()
    cid = course.id
    members = _scalars(sa.select(User).join(Membership, Membership.user_id == User.id)
                       .where(Membership.course_id == cid))
    counts = {"people": len(members)}
    counts["entries"] = _delete_entries(list(db.session.scalars(sa.select(Entry.id).where(Entry.course_id == cid))))
    counts["placements"] = db.session.execute(sa.delete(Placement).where(Placement.course_id == cid)).rowcount
    standing.forget(db.session.connection(), course_id=cid)
    _delete_supervisions(list(db.session.scalars(sa.select(Supervision.id).where(Supervision.course_id == cid))))
    _delete_grades(list(db.session.scalars(sa.select(Grade.id).where(Grade.course_id == cid))))
    _drop_rendered_files({cid})
    _delete_exports(list(db.session.scalars(sa.select(Export.id).where(Export.course_id == cid))))
    db.session.execute(sa.delete(ExportJob).where(ExportJob.course_id == cid))
    db.session.execute(sa.delete(OutboxMessage).where(OutboxMessage.course_id == cid))
    table = db.metadata.tables["lti_launch_ticket"]
    db.session.execute(sa.delete(table).where(table.c.course_id == cid))
    counts["audit_events"] = db.session.execute(sa.delete(AuditEvent).where(AuditEvent.course_id == cid)).rowcount
    db.session.execute(sa.delete(Membership).where(Membership.course_id == cid))
    db.session.flush()
    db.session.expire_all()
    erased = 0
    for user in members:
        if db.session.scalar(sa.select(Membership.id).where(Membership.user_id == user.id).limit(1)) is None:
            if not (user.lti_sub or "").startswith("erased-"):
                erase_person(user, via=via, keep_archives=True)
                erased += 1
    counts["people_erased"] = erased
    retention = db.session.scalar(queries.retention_of(cid))
    retention.purged_at = utcnow()
    db.session.flush()
    record_event("course.purged", course=course, subject=retention, via=via, **counts)
    return counts


@dataclass
class RetentionPlan:
    course: Course
    retention: CourseRetention
    end: date | None
    purge_after: date | None
    interns: int
    entries: int
    files: int
    today: date

    @property
    def due(self) -> bool:
        """Past its end plus the days to keep, and not purged yet."""
        return self.purge_after is not None and self.retention.purged_at is None and self.purge_after <= self.today


def plan_retention(today: date | None = None, course_ids: set[int] | None = None) -> list[RetentionPlan]:
    """What a retention run would archive and delete; reads only."""
    today = today or utcnow().date()
    plans = []
    for course, retention in db.session.execute(queries.courses_with_retention()).all():
        if course_ids is not None and course.id not in course_ids:
            continue
        end = course_end(course, retention)
        entries = db.session.scalar(sa.select(sa.func.count(Entry.id)).where(Entry.course_id == course.id))
        files = db.session.scalar(sa.select(sa.func.count(Evidence.id)).join(Entry, Entry.id == Evidence.entry_id)
                                  .where(Entry.course_id == course.id))
        plan = RetentionPlan(course=course, retention=retention, end=end, purge_after=retention.purge_after(end),
                             interns=len(_interns(course.id)), entries=entries, files=files, today=today)
        plans.append(plan)
    return plans


def run_retention(today: date | None = None, *, dry_run: bool = False, via: str = "cli",
                  commit: Callable[[], None] | None = None,
                  course_ids: set[int] | None = None) -> list[tuple[RetentionPlan, str]]:
    """Archive, then purge, every course past its retention; each course in its own commit.

    A course whose archive fails is not purged. Returns (plan, outcome) per due course."""
    outcomes = []
    for plan in plan_retention(today, course_ids):
        if not plan.due:
            continue
        if dry_run:
            outcomes.append((plan, "would archive and delete"))
            continue
        try:
            archive_course(plan.course, via=via)
            if commit:
                commit()
        except Exception as error:
            db.session.rollback()
            log.error("retention: archiving course %s failed, nothing deleted: %s", plan.course.id, error)
            outcomes.append((plan, f"archive failed, nothing deleted: {error}"))
            continue
        counts = purge_course(plan.course, via=via)
        if commit:
            commit()
        outcomes.append((plan, f"archived and deleted ({counts['entries']} weeks, {counts['people']} people)"))
    return outcomes
