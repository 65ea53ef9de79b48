"""The admin pages of a platform: courses and their retention, the outbox, the audit log.
Every URL names the course the admin came from; its platform is the admin's scope, and a
course or row of another platform is a 404."""

from __future__ import annotations

from datetime import datetime, time, timezone

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _

from portfolio.admin import operations, queries
from portfolio.db import db
from portfolio.errors import ensure
from portfolio.people.access import load_membership
from portfolio.people.models import Course, Membership, User
from portfolio.privacy import operations as privacy
from portfolio.privacy import queries as privacy_queries
from portfolio.privacy.forms import RetentionForm
from portfolio.privacy.models import DEFAULT_KEEP_DAYS, CourseArchive

bp = Blueprint("admin", __name__)


def _admin(course_id: int) -> Membership:
    membership = load_membership(course_id)
    ensure(privacy.is_platform_admin(membership))
    return membership


def _course(membership: Membership, course_ref: int) -> Course:
    return db.session.scalar(privacy_queries.course_of_platform(membership.course.platform_id, course_ref)) or abort(404)


@bp.get("/c/<int:course_id>/admin")
def index(course_id: int):
    membership = _admin(course_id)
    return render_template("admin/index.html", course=membership.course, membership=membership)


@bp.get("/c/<int:course_id>/admin/courses")
def courses(course_id: int):
    membership = _admin(course_id)
    platform_courses = set(db.session.scalars(
        db.select(Course.id).where(Course.platform_id == membership.course.platform_id)))
    plans = {p.course.id: p for p in privacy.plan_retention(course_ids=platform_courses)}
    rows = db.session.scalars(db.select(Course).where(Course.id.in_(platform_courses)).order_by(Course.title, Course.id))
    return render_template("admin/course_list.html", course=membership.course, membership=membership,
                           courses=list(rows), plans=plans)


@bp.route("/c/<int:course_id>/admin/courses/<int:course_ref>", methods=["GET", "POST"])
def course(course_id: int, course_ref: int):
    """A course's retention: the setting, what a run would do now, the archive files."""
    membership = _admin(course_id)
    target = _course(membership, course_ref)
    retention = db.session.scalar(privacy_queries.retention_of(target.id))
    form = RetentionForm(obj=None if request.method == "POST" else retention, keep_days=DEFAULT_KEEP_DAYS)
    if form.validate_on_submit():
        privacy.set_retention(target, keep_days=form.keep_days.data, course_end_date=form.course_end.data,
                              by=membership, via="admin")
        db.session.commit()
        flash(_("The retention of this course is saved."), "success")
        return redirect(url_for(".course", course_id=course_id, course_ref=course_ref))
    plans = privacy.plan_retention(course_ids={target.id})
    archives = list(db.session.scalars(privacy_queries.archives_of(target.id)))
    status = 422 if request.method == "POST" else 200
    return render_template("admin/course_show.html", course=membership.course, membership=membership,
                           target=target, form=form, plan=plans[0] if plans else None, archives=archives,
                           placement_end=privacy.course_end(target, None)), status


@bp.post("/c/<int:course_id>/admin/courses/<int:course_ref>/archive")
def archive(course_id: int, course_ref: int):
    """Archive now (the PDFs and data zips), without deleting anything."""
    membership = _admin(course_id)
    target = _course(membership, course_ref)
    written = privacy.archive_course(target, via="admin")
    db.session.commit()
    flash(_("%(count)s archive files written.", count=len(written)), "success")
    return redirect(url_for(".course", course_id=course_id, course_ref=course_ref))


@bp.get("/c/<int:course_id>/admin/courses/<int:course_ref>/archives/<int:archive_id>")
def archive_file(course_id: int, course_ref: int, archive_id: int):
    membership = _admin(course_id)
    target = _course(membership, course_ref)
    found = db.session.scalar(db.select(CourseArchive).where(CourseArchive.id == archive_id,
                                                             CourseArchive.course_id == target.id)) or abort(404)
    path = privacy.archive_path(found.file_name)
    if not path.is_file():
        abort(404)
    response = send_file(path, as_attachment=True, download_name=found.file_name.replace("/", "-"))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/c/<int:course_id>/admin/retention")
def retention(course_id: int):
    """The dry run for the platform: what a retention run would archive and delete today."""
    membership = _admin(course_id)
    platform_courses = set(db.session.scalars(
        db.select(Course.id).where(Course.platform_id == membership.course.platform_id)))
    plans = privacy.plan_retention(course_ids=platform_courses)
    return render_template("admin/retention_plan.html", course=membership.course, membership=membership,
                           plans=plans, due=[p for p in plans if p.due])


@bp.post("/c/<int:course_id>/admin/retention/run")
def run_retention(course_id: int):
    """Archive, then delete, the platform's due courses: each course commits on its own, and
    a course whose archive fails keeps all its data."""
    membership = _admin(course_id)
    platform_courses = set(db.session.scalars(
        db.select(Course.id).where(Course.platform_id == membership.course.platform_id)))
    outcomes = privacy.run_retention(via="admin", commit=db.session.commit, course_ids=platform_courses)
    failed = [plan.course.display_title for plan, outcome in outcomes if outcome.startswith("archive failed")]
    done = len(outcomes) - len(failed)
    flash(_("%(count)s courses archived and their personal data deleted.", count=done), "success")
    if failed:
        flash(_("Archiving failed, so nothing was deleted, for: %(courses)s", courses=", ".join(failed)), "error")
    return redirect(url_for(".retention", course_id=course_id))


@bp.get("/c/<int:course_id>/admin/outbox")
def outbox(course_id: int):
    membership = _admin(course_id)
    state = request.args.get("state") or ""
    platform_id = membership.course.platform_id
    mails = list(db.session.scalars(queries.mails(platform_id, state)))
    scores = list(db.session.scalars(queries.scores(platform_id, state)))
    return render_template("admin/outbox_list.html", course=membership.course, membership=membership,
                           mails=mails, scores=scores, state=state)


@bp.post("/c/<int:course_id>/admin/outbox/mails/<int:message_id>/retry")
def retry_mail(course_id: int, message_id: int):
    from portfolio.notify.delivery import kick

    membership = _admin(course_id)
    message = db.session.scalar(queries.mail_of_platform(membership.course.platform_id, message_id)) or abort(404)
    operations.retry_mail(message, by=membership, via="admin")
    db.session.commit()
    kick()
    flash(_("The mail will be sent again now."), "success")
    return redirect(url_for(".outbox", course_id=course_id))


@bp.post("/c/<int:course_id>/admin/outbox/scores/<int:delivery_id>/retry")
def retry_score(course_id: int, delivery_id: int):
    from portfolio.grading.passback import kick

    membership = _admin(course_id)
    delivery = db.session.scalar(queries.score_of_platform(membership.course.platform_id, delivery_id)) or abort(404)
    operations.retry_score(delivery, by=membership, via="admin")
    db.session.commit()
    kick()
    flash(_("The score will be sent again now."), "success")
    return redirect(url_for(".outbox", course_id=course_id))


def _day(value: str | None) -> datetime | None:
    try:
        return datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), tzinfo=timezone.utc) if value else None
    except ValueError:
        return None


@bp.get("/c/<int:course_id>/admin/audit")
def audit(course_id: int):
    """The platform's audit trail, newest first, 100 at a time; unknown filter values are ignored."""
    membership = _admin(course_id)
    args = request.args
    filters = {"action": (args.get("action") or "").strip()[:64], "course_id": args.get("course", type=int),
               "person_id": args.get("person", type=int), "since": _day(args.get("since")),
               "until": _day(args.get("until"))}
    if filters["until"] is not None:
        from datetime import timedelta

        filters["until"] += timedelta(days=1)  # "until" names the last day shown
    events = list(db.session.scalars(queries.audit(membership.course.platform_id, before_id=args.get("before", type=int),
                                                   **filters)))
    ids = {e.actor_id for e in events} | {e.about_id for e in events}
    names = {u.id: u.display_name for u in db.session.scalars(db.select(User).where(User.id.in_(ids - {None} or {-1})))}
    courses = list(db.session.scalars(db.select(Course).where(Course.platform_id == membership.course.platform_id)
                                      .order_by(Course.title, Course.id)))
    older = None
    if len(events) == 100:
        kept = {k: v for k, v in args.items() if k != "before"}
        older = url_for(".audit", course_id=course_id, before=events[-1].id, **kept)
    return render_template("admin/audit_list.html", course=membership.course, membership=membership, events=events,
                           names=names, courses=courses, args=args, older=older)
