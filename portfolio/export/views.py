"""Export pages: choosing what to export, following the background job, downloading the
result; and the public page where anyone holding a document checks it is genuine."""

from __future__ import annotations

import hashlib

from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import format_date

from portfolio.db import db
from portfolio.errors import ensure
from portfolio.export import operations, queries
from portfolio.export.forms import ExportForm, VerifyForm
from portfolio.export.models import ExportJob, JobKind, JobState, Scope, can_export, can_export_cohort
from portfolio.people.access import load_membership
from portfolio.people.models import Membership, Role, User

bp = Blueprint("export", __name__)

STATE_LABELS = {JobState.queued: "queued", JobState.running: "running", JobState.done: "done",
                JobState.failed: "failed"}


def _intern(course_id: int, intern_id: int) -> User:
    membership = db.session.scalar(queries.intern_membership(course_id, intern_id)) or abort(404)
    return membership.user


def _job(membership: Membership, job_id: int) -> ExportJob:
    job = db.session.scalar(queries.job_in_course(membership.course_id, job_id)) or abort(404)
    ensure(job.can_view(membership))
    if operations.expire_if_stale(job):
        db.session.commit()
    return job


@bp.get("/c/<int:course_id>/export")
def index(course_id: int):
    """The interns this person may export, and for advisors the whole cohort."""
    membership = load_membership(course_id)
    if membership.role is Role.intern:
        return redirect(url_for(".new", course_id=course_id, intern_id=membership.user_id))
    if membership.role is Role.supervisor:
        interns = sorted((s.intern for s in membership.supervisions), key=lambda u: (u.display_name, u.id))
    else:
        ensure(can_export_cohort(membership))
        interns = list(db.session.scalars(queries.interns_of(course_id)))
    return render_template("export/export_index.html", course=membership.course, membership=membership,
                           interns=interns, form=ExportForm(), cohort=can_export_cohort(membership))


@bp.get("/c/<int:course_id>/interns/<int:intern_id>/export")
def new(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    intern = _intern(course_id, intern_id)
    ensure(can_export(membership, intern.id))
    return render_template("export/export_new.html", course=membership.course, membership=membership,
                           intern=intern, form=ExportForm())


@bp.post("/c/<int:course_id>/interns/<int:intern_id>/export")
def create(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    intern = _intern(course_id, intern_id)
    ensure(can_export(membership, intern.id))
    form = ExportForm()
    if not form.validate_on_submit():
        return render_template("export/export_new.html", course=membership.course, membership=membership,
                               intern=intern, form=form), 422
    job = operations.request_export(membership, intern, Scope(form.scope.data))
    db.session.commit()
    operations.start(job)
    return redirect(url_for(".show", course_id=course_id, job_id=job.id))


@bp.post("/c/<int:course_id>/export/cohort")
def create_cohort(course_id: int):
    membership = load_membership(course_id)
    ensure(can_export_cohort(membership))
    form = ExportForm()
    if not form.validate_on_submit():
        interns = list(db.session.scalars(queries.interns_of(course_id)))
        return render_template("export/export_index.html", course=membership.course, membership=membership,
                               interns=interns, form=form, cohort=True), 422
    job = operations.request_cohort_export(membership, Scope(form.scope.data))
    db.session.commit()
    operations.start(job)
    return redirect(url_for(".show", course_id=course_id, job_id=job.id))


@bp.get("/c/<int:course_id>/exports/<int:job_id>")
def show(course_id: int, job_id: int):
    membership = load_membership(course_id)
    job = _job(membership, job_id)
    return render_template("export/export_show.html", course=membership.course, membership=membership, job=job,
                           state=STATE_LABELS[job.state])


@bp.get("/c/<int:course_id>/exports/<int:job_id>/status")
def status(course_id: int, job_id: int):
    membership = load_membership(course_id)
    job = _job(membership, job_id)
    return jsonify(state=job.state.value, progress=job.progress, message=job.message,
                   download_url=url_for(".download", course_id=course_id, job_id=job.id)
                   if job.state is JobState.done else None)


@bp.get("/c/<int:course_id>/exports/<int:job_id>/download")
def download(course_id: int, job_id: int):
    membership = load_membership(course_id)
    job = _job(membership, job_id)
    if job.state is not JobState.done:
        abort(404)
    if job.kind is JobKind.cohort:
        name, download_name, mimetype = job.file_name, f"portfolios-{course_id}.zip", "application/zip"
    else:
        export = job.export or abort(404)
        name, mimetype = export.file_name, "application/pdf"
        download_name = f"portfolio-{job.intern.display_name}.pdf"
    path = operations.file_path(name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=mimetype, as_attachment=True, download_name=download_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- public: is this document genuine? -----------------------------------------------------


@bp.route("/verify/<code>", methods=["GET", "POST"])
def verify(code: str):
    """Says only whether the document matches, and then only what its cover already shows."""
    form = VerifyForm()
    result = None
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            if form.document.data:
                digest = hashlib.sha256()
                for chunk in iter(lambda: form.document.data.stream.read(1024 * 1024), b""):
                    digest.update(chunk)
                sha256 = digest.hexdigest()
            else:
                sha256 = form.sha256.data.strip().lower()
            export = operations.verify(code, sha256)
            if export is not None:
                result = {"matches": True, "name": export.intern.display_name, "course": export.course.display_title,
                          "issued": format_date(export.created_at, "long")}
            else:
                result = {"matches": False}
        else:
            status = 422
    return render_template("export/verify.html", form=form, code=operations.normalise_code(code) or code[:40],
                           result=result), status
