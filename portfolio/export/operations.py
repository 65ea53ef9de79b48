"""Exports: asking for a PDF (answered at once from the cache when nothing changed),
rendering it in a background job, a cohort's zip, and checking a document later.
Functions flush and audit; the caller (view or job) commits."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import zipfile
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import IntegrityError
from flask_babel import gettext as _

from portfolio import jobs
from portfolio.audit.operations import record_event
from portfolio.db import db, utcnow
from portfolio.errors import ensure
from portfolio.export import queries, render
from portfolio.export.models import (Export, ExportJob, JobKind, JobState, Scope, can_export,
                                     can_export_cohort)
from portfolio.people.models import Course, Membership, User

log = logging.getLogger(__name__)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def normalise_code(code: str) -> str:
    raw = "".join(c for c in (code or "").upper() if c in CODE_ALPHABET)
    return "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))


def _settings() -> tuple[float, int]:
    config = current_app.config
    timeout = float(config.get("EXPORT_TIMEOUT") or os.environ.get("PORTFOLIO_EXPORT_TIMEOUT") or 120)
    memory = int(config.get("EXPORT_MEMORY_MB") or os.environ.get("PORTFOLIO_EXPORT_MEMORY_MB") or 1536)
    return timeout, memory


def _file_ok(name: str | None) -> bool:
    return bool(name) and (render.export_root() / name).is_file()


def cached_export(content_hash: str) -> Export | None:
    export = db.session.scalar(queries.export_by_hash(content_hash))
    return export if export is not None and _file_ok(export.file_name) else None


# --- asking ---------------------------------------------------------------------------------


def request_export(membership: Membership, intern: User, scope: Scope) -> ExportJob:
    """Ask for an intern's PDF; an unchanged portfolio is answered from the cache at once."""
    ensure(can_export(membership, intern.id))
    document, _sources = render.build_document(membership.course, intern, scope)
    key = render.content_hash(document, render.pdf_locale(intern))
    job = ExportJob(course_id=membership.course_id, requested_by_id=membership.user_id, intern_id=intern.id,
                    kind=JobKind.portfolio, scope=scope, content_hash=key)
    cached = cached_export(key)
    if cached is not None:
        job.export, job.state, job.progress, job.finished_at = cached, JobState.done, 100, utcnow()
    db.session.add(job)
    db.session.flush()
    record_event("export.requested", by=membership, subject=job, about=intern,
                 scope=scope.value, cached=cached is not None)
    return job


def request_cohort_export(membership: Membership, scope: Scope) -> ExportJob:
    """Ask for a zip of every intern's PDF in the course."""
    ensure(can_export_cohort(membership))
    job = ExportJob(course_id=membership.course_id, requested_by_id=membership.user_id, intern_id=None,
                    kind=JobKind.cohort, scope=scope)
    db.session.add(job)
    db.session.flush()
    record_event("export.cohort_requested", by=membership, subject=job,
                 scope=scope.value)
    return job


def start(job: ExportJob) -> None:
    """Hand a queued job to the background runner (after the request's commit)."""
    if job.state is JobState.queued:
        render.warm_up()
        jobs.enqueue("export.run", job_id=job.id)


# --- rendering (background) -------------------------------------------------------------------


def _progress(job: ExportJob, percent: int) -> None:
    job.progress = max(job.progress, min(99, int(percent)))
    db.session.commit()  # a job commits as it goes, so the status page sees progress


def render_export(course: Course, intern: User, scope: Scope, on_progress=None) -> Export:
    """The intern's PDF: the cached one when nothing changed, else freshly rendered."""
    report = on_progress or (lambda percent: None)
    document, sources = render.build_document(course, intern, scope)
    locale = render.pdf_locale(intern)
    key = render.content_hash(document, locale)
    cached = cached_export(key)
    if cached is not None:
        return cached
    report(10)
    images = render.prepare_images(sources)
    report(25)
    existing = db.session.scalar(queries.export_by_hash(key))  # a row whose file went missing
    code = existing.verification_code if existing else new_code()
    issued_at = existing.created_at if existing else utcnow()
    verify_url = _verify_url(code)
    html = render.build_html(document, locale, images=images, issued_at=issued_at, code=code,
                             verify_url=verify_url)
    data = render.canonical_json(document)
    folder = render.export_root()
    folder.mkdir(parents=True, exist_ok=True)
    file_name = f"{key}.pdf"
    timeout, memory = _settings()
    title = _("Internship portfolio of %(name)s", name=intern.display_name)
    rendered = render.render_pdf(html, files=images, root=str(folder), data=data, out_path=folder / file_name, timeout=timeout,
                                 memory_mb=memory, on_progress=lambda pages: report(80), title=title)
    pdf = (folder / file_name).read_bytes()
    export = existing or Export(course_id=course.id, intern_id=intern.id, scope=scope, locale=locale,
                                content_hash=key, verification_code=code, created_at=issued_at)
    export.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    export.data_sha256 = hashlib.sha256(data).hexdigest()
    export.file_name, export.size, export.pages = file_name, len(pdf), rendered.pages
    try:
        with db.session.begin_nested():
            db.session.add(export)
    except IntegrityError:  # the same portfolio rendered by another job at the same moment
        return cached_export(key) or db.session.scalar(queries.export_by_hash(key))
    log.info("export: rendered %s pages for intern %s in %.1f s (peak %d MB)", rendered.pages, intern.id,
             rendered.seconds, rendered.peak_rss_kb // 1024)
    return export


def _verify_url(code: str) -> str:
    # Jobs have no request to build an external URL from: the configured public URL it is.
    return f"{current_app.config.get('BASE_URL') or ''}/verify/{code}"


@jobs.register("export.run")
def run_job(job_id: int) -> None:
    """The background side of an export: render, record, or record why not."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.state is not JobState.queued:
        return
    job.state, job.started_at, job.progress = JobState.running, utcnow(), 5
    db.session.commit()
    try:
        if job.kind is JobKind.cohort:
            _run_cohort(job)
        else:
            intern = db.session.get(User, job.intern_id)
            job.export = render_export(db.session.get(Course, job.course_id), intern, job.scope,
                                       on_progress=lambda percent: _progress(job, percent))
        job.state, job.progress, job.finished_at = JobState.done, 100, utcnow()
        db.session.commit()
    except render.RenderFailed as failure:
        _fail(job_id, str(failure))
    except Exception:
        log.exception("export job %s failed", job_id)
        _fail(job_id, _("The export failed unexpectedly. Try again later; if it keeps failing, tell the advisor."))


def expire_if_stale(job: ExportJob) -> bool:
    """A job left queued or running far past the time limit died with its worker: say so."""
    if job.is_finished:
        return False
    timeout, _memory = _settings()
    since = job.started_at or job.created_at
    limit = timeout * (10 if job.kind is JobKind.cohort else 1) + 300
    if (utcnow() - since).total_seconds() < limit:
        return False
    job.state, job.finished_at = JobState.failed, utcnow()
    job.message = _("The export was interrupted. Please ask for it again.")
    db.session.flush()
    record_event("export.interrupted", course=db.session.get(Course, job.course_id), subject=job,
                 about=job.intern)
    return True


def _fail(job_id: int, message: str) -> None:
    db.session.rollback()
    job = db.session.get(ExportJob, job_id)
    job.state, job.message, job.finished_at = JobState.failed, message, utcnow()
    db.session.commit()


def _run_cohort(job: ExportJob) -> None:
    course = db.session.get(Course, job.course_id)
    interns = list(db.session.scalars(queries.interns_of(course.id)))
    exports = []
    for index, intern in enumerate(interns):
        exports.append((intern, render_export(course, intern, job.scope)))
        db.session.commit()  # each intern's PDF is kept even if a later one fails
        _progress(job, 5 + 90 * (index + 1) / max(1, len(interns)))
    key = hashlib.sha256("|".join(e.content_hash for _i, e in exports).encode()
                         + job.scope.value.encode()).hexdigest()
    job.content_hash = key
    previous = db.session.scalar(queries.done_cohort_job(course.id, key))
    if previous is not None and _file_ok(previous.file_name):
        job.file_name = previous.file_name
        return
    folder = render.export_root()
    file_name = f"cohort-{key}.zip"
    partial = folder / f"{file_name}.{os.getpid()}.part"
    used: set[str] = set()
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:  # PDFs are compressed already
        for intern, export in exports:
            name = _zip_name(intern, used)
            archive.write(folder / export.file_name, name)
    os.replace(partial, folder / file_name)
    job.file_name = file_name


def _zip_name(intern: User, used: set[str]) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in intern.display_name).strip("-")[:60] or "intern"
    name, n = f"{stem}.pdf", 2
    while name in used:
        name, n = f"{stem}-{n}.pdf", n + 1
    used.add(name)
    return name


def file_path(name: str) -> Path:
    return render.export_root() / name


# --- checking a document ---------------------------------------------------------------------


def verify(code: str, sha256: str) -> Export | None:
    """The export with this code, if the document's SHA-256 is the one we issued; else None."""
    export = db.session.scalar(queries.export_by_code(normalise_code(code)))
    if export is None or not secrets.compare_digest(export.pdf_sha256, (sha256 or "").strip().lower()):
        return None
    return export
