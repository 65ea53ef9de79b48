from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from portfolio.db import db
from portfolio.errors import ensure
from portfolio.people.access import load_membership
from portfolio.people.models import Membership, Role
from portfolio.placements import operations
from portfolio.placements.forms import PlacementForm
from portfolio.placements.models import Placement
from portfolio.placements.queries import interns_with_placements

bp = Blueprint("placements", __name__)


@bp.route("/c/<int:course_id>/placement", methods=["GET", "POST"])
def edit_own(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.role is Role.intern)
    return _edit(membership, membership)


@bp.route("/c/<int:course_id>/placements/<int:intern_id>/edit", methods=["GET", "POST"])
def edit(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    ensure(membership.role in (Role.advisor, Role.admin))
    intern = db.session.scalar(
        db.select(Membership).where(Membership.course_id == course_id, Membership.user_id == intern_id,
                                    Membership.role == Role.intern)
    ) or abort(404)
    return _edit(membership, intern)


def _edit(membership: Membership, intern: Membership):
    placement = operations.placement_of(membership.course_id, intern.user_id)
    probe = placement or Placement(course_id=membership.course_id, intern_id=intern.user_id)
    ensure(probe.can_edit(membership))
    form = PlacementForm(obj=placement)
    if request.method == "GET" and placement is None:
        form.timezone.data = intern.user.effective_timezone or ""
    if form.validate_on_submit():
        operations.save_placement(intern.user, form.data_for_operation(), by=membership)
        db.session.commit()
        flash(_("The placement is saved."), "success")
        if membership.user_id == intern.user_id:
            return redirect(url_for("journal.home", course_id=membership.course_id))
        return redirect(url_for(".index", course_id=membership.course_id))
    status = 422 if request.method == "POST" else 200
    return render_template("placements/placement_edit.html", course=membership.course, membership=membership,
                           form=form, intern=intern, placement=placement), status


@bp.get("/c/<int:course_id>/placements")
def index(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.role in (Role.advisor, Role.admin))
    rows = db.session.execute(interns_with_placements(course_id)).all()
    return render_template("placements/placement_list.html", course=membership.course, membership=membership,
                           rows=rows)
