from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portfolio.db import db
from portfolio.people import operations
from portfolio.people.access import load_membership
from portfolio.people.forms import PreferencesForm
from portfolio.people.models import Role
from portfolio.people.queries import course_members, courses_of_platform

bp = Blueprint("people", __name__)


@bp.get("/c/<int:course_id>/")
def home(course_id: int):
    """Each role lands on its own page of the course."""
    membership = load_membership(course_id)
    course = membership.course
    if membership.role is Role.advisor:
        members = db.session.scalars(course_members(course.id)).all()
        return render_template("people/cohort.html", course=course, membership=membership, members=members)
    if membership.role is Role.admin:
        courses = db.session.execute(courses_of_platform(course.platform_id)).all()
        return render_template("people/admin_home.html", course=course, membership=membership, courses=courses)
    if membership.role is Role.supervisor:
        return redirect(url_for("signoff.queue", course_id=course.id))
    return redirect(url_for("journal.home", course_id=course.id))


@bp.route("/c/<int:course_id>/preferences", methods=["GET", "POST"])
def preferences(course_id: int):
    membership = load_membership(course_id)
    form = PreferencesForm(
        locale=current_user.preferred_locale or "",
        timezone=current_user.effective_timezone or membership.course.timezone,
    )
    if form.validate_on_submit():
        operations.update_preferences(current_user, locale=form.locale.data or None, timezone=form.timezone.data)
        db.session.commit()
        flash(_("Your preferences are saved."), "success")
        return redirect(url_for(".home", course_id=course_id))
    status = 422 if request.method == "POST" else 200
    return render_template("people/preferences_edit.html", course=membership.course, membership=membership, form=form), status


@bp.post("/timezone")
@login_required
def browser_timezone():
    """The browser says where the person is; kept only when nothing better is known."""
    operations.adopt_browser_timezone(current_user, request.form.get("timezone"))
    db.session.commit()
    return "", 204


@bp.get("/no-role")
@login_required
def no_role():
    return render_template("people/no_role.html"), 403


@bp.get("/")
def index():
    """Outside an LMS there is nothing to show but how to get in."""
    if current_user.is_authenticated and current_user.memberships:
        latest = max(current_user.memberships, key=lambda m: m.updated_at)
        return redirect(url_for(".home", course_id=latest.course_id))
    return render_template("people/index.html")
