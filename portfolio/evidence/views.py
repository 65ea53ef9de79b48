"""Evidence routes: upload to an entry, download, thumbnail, remove.

Files go out only to people who may see the entry, always as downloads that the browser
may neither sniff nor render in our origin; the thumbnail is the one inline image, and
it is our own re-encoded PNG.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from portfolio.db import db
from portfolio.errors import ensure
from portfolio.evidence import operations, storage
from portfolio.evidence.models import Evidence
from portfolio.journal.models import Entry
from portfolio.people.access import load_membership

bp = Blueprint("evidence", __name__)

LOCKED_DOWN = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "private, no-store",
}


def load_entry(course_id: int, entry_id: int) -> Entry:
    """The entry, scoped to the course, else 404."""
    entry = db.session.scalar(sa.select(Entry).where(Entry.id == entry_id, Entry.course_id == course_id))
    if entry is None:
        abort(404)
    return entry


def load_evidence(course_id: int, evidence_id: int) -> Evidence:
    """The evidence, scoped to the course through its entry, else 404."""
    evidence = db.session.scalar(
        sa.select(Evidence).join(Entry, Evidence.entry_id == Entry.id)
        .where(Evidence.id == evidence_id, Entry.course_id == course_id)
    )
    if evidence is None:
        abort(404)
    return evidence


@bp.post("/c/<int:course_id>/entries/<int:entry_id>/evidence")
def upload(course_id: int, entry_id: int):
    membership = load_membership(course_id)
    entry = load_entry(course_id, entry_id)
    ensure(entry.can_edit(membership))
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("Choose a file to attach."), "error")
        return _back(course_id, entry_id)
    try:
        # One byte past the limit is enough to know the file is too large.
        data = file.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
        evidence = operations.add_evidence(entry, data, file.filename, by=membership)
    except operations.RejectedUpload as rejected:
        flash(str(rejected), "error")
        return _back(course_id, entry_id)
    db.session.commit()
    flash(_("%(name)s is attached.", name=evidence.original_name), "success")
    return _back(course_id, entry_id)


@bp.get("/c/<int:course_id>/evidence/<int:evidence_id>")
def download(course_id: int, evidence_id: int):
    membership = load_membership(course_id)
    evidence = load_evidence(course_id, evidence_id)
    ensure(evidence.entry.can_view(membership))
    return _send(evidence.stored_name, evidence.content_type, evidence.original_name)


@bp.get("/c/<int:course_id>/evidence/<int:evidence_id>/thumbnail")
def thumbnail(course_id: int, evidence_id: int):
    membership = load_membership(course_id)
    evidence = load_evidence(course_id, evidence_id)
    ensure(evidence.entry.can_view(membership))
    if not evidence.thumbnail_name:
        abort(404)
    return _send(evidence.thumbnail_name, "image/png", "thumbnail.png", as_attachment=False)


@bp.post("/c/<int:course_id>/evidence/<int:evidence_id>/delete")
def delete(course_id: int, evidence_id: int):
    membership = load_membership(course_id)
    evidence = load_evidence(course_id, evidence_id)
    ensure(evidence.entry.can_edit(membership))
    entry_id, name = evidence.entry_id, evidence.original_name
    released = operations.remove_evidence(evidence, by=membership)
    db.session.commit()
    # Only after the commit: a rolled-back removal must still find its file.
    for stored_name in released:
        storage.delete_if_unreferenced(stored_name)
    flash(_("%(name)s is removed.", name=name), "success")
    return _back(course_id, entry_id)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    # Raised where the form is first read (CSRF protection, before the view runs); the
    # request is routed by then, so this handler sees it. The body is never read again.
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    flash(_("The file is larger than the limit of %(size)s MB.", size=operations.megabytes(limit)), "error")
    args = request.view_args or {}
    return _back(args["course_id"], args.get("entry_id"), read_form=False)


def _send(stored_name: str, content_type: str, download_name: str, as_attachment: bool = True):
    path = storage.path_for(stored_name)
    if not path.is_file():
        current_app.logger.error("stored evidence file %s is missing", stored_name)
        abort(404)
    response = send_file(path, mimetype=content_type, as_attachment=as_attachment, download_name=download_name)
    response.headers.update(LOCKED_DOWN)
    return response


def _back(course_id: int, entry_id: int | None, read_form: bool = True):
    """Back to the page the form was on, if it is a page of this course; else to the entry's editor."""
    referrer = urlsplit(request.referrer or "")
    candidates = [
        request.form.get("next") if read_form else None,
        url_for("journal.edit", course_id=course_id, entry_id=entry_id) if entry_id is not None else None,
        referrer.path + (f"?{referrer.query}" if referrer.query else "") if referrer.netloc == request.host else None,
    ]
    for target in candidates:
        if target and target.startswith(f"/c/{course_id}/"):  # a path of this course, never another site
            return redirect(target)
    return redirect(url_for("people.home", course_id=course_id))
