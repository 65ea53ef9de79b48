"""Grading pages: the course's rubric (advisors), grading each intern against it, the
course's grades with their LMS delivery, releasing, and an intern's own released grade.
Each route loads (scoped to the course), authorizes, calls one operation, commits and
redirects; a form that fails keeps everything typed."""

from __future__ import annotations

import logging
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext

from portfolio import lms
from portfolio.db import db
from portfolio.errors import ensure
from portfolio.grading import operations, passback, queries
from portfolio.grading.forms import ConfirmForm, CriterionForm, criterion_data, grade_form
from portfolio.grading.models import Criterion, GradeState, Rubric
from portfolio.people.access import load_membership
from portfolio.people.models import Membership, Role

bp = Blueprint("grading", __name__)
log = logging.getLogger(__name__)


# --- loading ------------------------------------------------------------------------------


def _grader(course_id: int) -> Membership:
    membership = load_membership(course_id)
    ensure(operations.can_grade(membership))
    return membership


def _rubric_manager(course_id: int) -> Membership:
    membership = load_membership(course_id)
    ensure(operations.can_manage_rubric(membership))
    return membership


def load_criterion(course_id: int, criterion_id: int) -> Criterion:
    """A criterion of this course's rubric, else 404."""
    return db.session.scalar(queries.criterion_in_course(criterion_id, course_id)) or abort(404)


def load_intern(course_id: int, intern_id: int) -> Membership:
    """An intern of this course, else 404."""
    return db.session.scalar(queries.intern_of(course_id, intern_id)) or abort(404)


def _page(template: str, membership: Membership, status: int = 200, **context):
    return render_template(template, course=membership.course, membership=membership, **context), status


def _usage(course_id: int) -> dict[int, tuple[int, int]]:
    return {cid: (count, int(released or 0)) for cid, count, released in
            db.session.execute(queries.criterion_usage(course_id)).all()}


def _gradebook_offered(course) -> bool:
    try:
        return bool(lms.current().grades_supported(course))
    except Exception:  # the page still shows the grades; the job says why sending waits
        log.exception("cannot tell whether course %s offers its gradebook", course.id)
        return False


# --- the rubric ---------------------------------------------------------------------------------


@bp.get("/c/<int:course_id>/rubric")
def rubric(course_id: int):
    membership = _rubric_manager(course_id)
    found = operations.rubric_of(course_id)
    return _page("grading/rubric_show.html", membership, rubric=found, usage=_usage(course_id),
                 maximum=operations.rubric_maximum(found))


def _criterion_initial(criterion: Criterion | None) -> dict:
    if criterion is None:
        return {"levels": [{}, {}, {}]}
    return {"title": criterion.title, "description": criterion.description,
            "levels": [{"level_id": str(level.id), "title": level.title, "description": level.description,
                        "points": level.points} for level in criterion.levels]}


def _rearranged(form: CriterionForm, action: str) -> CriterionForm | None:
    """Add, remove or move a level row without saving; None when ``action`` is not one of these."""
    data = criterion_data(form)
    levels = data["levels"]
    if action == "add_level":
        if len(levels) < form.levels.max_entries:
            levels.append({})
    else:
        verb, _sep, index = action.rpartition("-")
        if verb not in ("remove_level", "level_up", "level_down") or not index.isdigit():
            return None
        i = int(index)
        if not 0 <= i < len(levels):
            return None
        if verb == "remove_level":
            levels.pop(i)
            levels = levels or [{}]
        else:
            j = i - 1 if verb == "level_up" else i + 1
            if 0 <= j < len(levels):
                levels[i], levels[j] = levels[j], levels[i]
    data["levels"] = levels
    return CriterionForm(formdata=None, data=data)


def _criterion_page(membership: Membership, criterion: Criterion | None):
    if request.method == "GET":
        form = CriterionForm(formdata=None, data=_criterion_initial(criterion))
        return _criterion_form(membership, criterion, form)
    form = CriterionForm()
    action = request.form.get("action", "save")
    if action != "save":
        rearranged = _rearranged(form, action)
        if rearranged is None:
            abort(400)
        return _criterion_form(membership, criterion, rearranged)
    if not form.validate_on_submit():
        return _criterion_form(membership, criterion, form, 422)
    saved = operations.save_criterion(membership.course, criterion, title=form.title.data,
                                      description=form.description.data or "", levels=form.level_data(),
                                      by=membership)
    db.session.commit()
    passback.kick()
    flash(_("Criterion “%(title)s” saved.", title=saved.title), "success")
    return redirect(url_for(".rubric", course_id=membership.course_id, _anchor=f"criterion-{saved.id}"))


def _criterion_form(membership: Membership, criterion: Criterion | None, form: CriterionForm, status: int = 200):
    usage = _usage(membership.course_id).get(criterion.id, (0, 0)) if criterion else (0, 0)
    return _page("grading/criterion_edit.html", membership, status, form=form, criterion=criterion, usage=usage)


@bp.route("/c/<int:course_id>/rubric/criteria/new", methods=["GET", "POST"])
def criterion_new(course_id: int):
    membership = _rubric_manager(course_id)
    return _criterion_page(membership, None)


@bp.route("/c/<int:course_id>/rubric/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
def criterion_edit(course_id: int, criterion_id: int):
    membership = load_membership(course_id)
    criterion = load_criterion(course_id, criterion_id)
    ensure(operations.can_manage_rubric(membership))
    return _criterion_page(membership, criterion)


@bp.post("/c/<int:course_id>/rubric/criteria/<int:criterion_id>/move")
def criterion_move(course_id: int, criterion_id: int):
    membership = load_membership(course_id)
    criterion = load_criterion(course_id, criterion_id)
    ensure(operations.can_manage_rubric(membership))
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400, description=_("Choose up or down."))
    operations.move_criterion(criterion, direction, by=membership)
    db.session.commit()
    return redirect(url_for(".rubric", course_id=course_id, _anchor=f"criterion-{criterion_id}"))


@bp.route("/c/<int:course_id>/rubric/criteria/<int:criterion_id>/delete", methods=["GET", "POST"])
def criterion_delete(course_id: int, criterion_id: int):
    membership = load_membership(course_id)
    criterion = load_criterion(course_id, criterion_id)
    ensure(operations.can_manage_rubric(membership))
    form = ConfirmForm()
    if not form.validate_on_submit():
        usage = _usage(course_id).get(criterion.id, (0, 0))
        return _page("grading/criterion_delete.html", membership, 422 if request.method == "POST" else 200,
                     criterion=criterion, usage=usage, form=form)
    title = criterion.title
    operations.delete_criterion(criterion, by=membership)
    db.session.commit()
    passback.kick()
    flash(_("Criterion “%(title)s” deleted.", title=title), "success")
    return redirect(url_for(".rubric", course_id=course_id))


@bp.route("/c/<int:course_id>/rubric/copy", methods=["GET", "POST"])
def rubric_copy(course_id: int):
    membership = _rubric_manager(course_id)
    course = membership.course
    current = operations.rubric_of(course_id)
    has_rubric = bool(current and current.criteria)
    has_grades = bool(db.session.scalar(queries.grade_count(course_id)))
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        sources = db.session.execute(queries.copy_sources(course, membership.user_id)).all()
        return _page("grading/rubric_copy.html", membership, 422 if request.method == "POST" else 200,
                     sources=sources, has_rubric=has_rubric, has_grades=has_grades, form=form, confirm_source=None)
    source = db.session.scalar(queries.copy_source(course, membership.user_id,
                                                   request.form.get("source_id", -1, type=int))) or abort(404)
    if has_rubric and request.form.get("confirm") != "replace":
        return _page("grading/rubric_copy.html", membership, sources=[], has_rubric=has_rubric,
                     has_grades=has_grades, form=form, confirm_source=source)
    copied = operations.copy_rubric(source, course, by=membership, replace=has_rubric)
    db.session.commit()
    passback.kick()
    flash(ngettext("Copied %(num)d criterion from %(course)s.", "Copied %(num)d criteria from %(course)s.",
                   copied, course=source.display_title), "success")
    return redirect(url_for(".rubric", course_id=course_id))


# --- grades -------------------------------------------------------------------------------------


@bp.get("/c/<int:course_id>/grades")
def index(course_id: int):
    membership = _grader(course_id)
    course = membership.course
    found = operations.rubric_of(course_id)
    rows = db.session.execute(queries.cohort_grades(course_id)).all()
    complete = {grade.id for _m, grade in rows
                if grade is not None and not operations.missing_criteria(grade, found)}
    drafts = [grade for _m, grade in rows if grade is not None and grade.state is GradeState.draft]
    return _page("grading/grades_index.html", membership, rows=rows, rubric=found, complete=complete,
                 drafts=drafts, maximum=operations.rubric_maximum(found), offered=_gradebook_offered(course),
                 form=ConfirmForm())


def _preview(rubric: Rubric, form) -> Decimal:
    """The score of the levels chosen in the form, as saving would compute it."""
    points = {level.id: Decimal(str(level.points)) for c in rubric.criteria for level in c.levels}
    return sum((points.get(level_id, Decimal(0)) for level_id in form.levels().values() if level_id), Decimal(0))


def _grade_page(membership: Membership, intern: Membership, rubric: Rubric | None, grade, form, status: int = 200):
    return _page("grading/grade_edit.html", membership, status, intern=intern, rubric=rubric, grade=grade, form=form,
                 preview=_preview(rubric, form) if form is not None else Decimal(0),
                 maximum=operations.rubric_maximum(rubric),
                 missing=operations.missing_criteria(grade, rubric) if grade is not None else [])


@bp.route("/c/<int:course_id>/grades/<int:intern_id>", methods=["GET", "POST"])
def grade(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    intern = load_intern(course_id, intern_id)
    ensure(operations.can_grade(membership))
    found = operations.rubric_of(course_id)
    existing = operations.grade_of(course_id, intern_id)
    if found is None or not found.criteria:
        if request.method == "POST":
            abort(409, description=_("The course has no rubric yet: add its criteria first."))
        return _grade_page(membership, intern, found, existing, None)
    if request.method == "GET":
        return _grade_page(membership, intern, found, existing, grade_form(found, existing))
    form = grade_form(found)
    if not form.validate_on_submit():
        return _grade_page(membership, intern, found, existing, form, 422)
    saved = operations.save_grade(membership.course, intern_id, levels=form.levels(), feedback=form.feedback(),
                                  comment=form.comment.data or "", by=membership, rubric=found, grade=existing)
    if saved.is_released:  # worded before the commit expires the grade
        message = _("Changes saved. The intern sees them, and the new score is on its way to the LMS.")
    else:
        message = _("Draft saved: %(score)s of %(maximum)s points. The intern does not see it yet.",
                    score=_number(saved.score), maximum=_number(saved.score_maximum))
    db.session.commit()
    passback.kick()
    flash(message, "success")
    return redirect(url_for(".grade", course_id=course_id, intern_id=intern_id))


def _number(value) -> str:
    return f"{Decimal(str(value)).normalize():f}"


@bp.route("/c/<int:course_id>/grades/<int:intern_id>/release", methods=["GET", "POST"])
def release(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    intern = load_intern(course_id, intern_id)
    ensure(operations.can_grade(membership))
    found = operations.grade_of(course_id, intern_id) or abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        rubric_found = operations.rubric_of(course_id)
        return _page("grading/grade_release.html", membership, 422 if request.method == "POST" else 200,
                     intern=intern, grade=found, form=form, missing=operations.missing_criteria(found, rubric_found))
    operations.release_grade(found, by=membership)
    db.session.commit()
    passback.kick()
    flash(_("The grade of %(name)s is released: they see it now, and it is on its way to the LMS.",
            name=intern.user.display_name), "success")
    return redirect(url_for(".index", course_id=course_id, _anchor=f"intern-{intern_id}"))


@bp.route("/c/<int:course_id>/grades/release-all", methods=["GET", "POST"])
def release_all(course_id: int):
    membership = _grader(course_id)
    course = membership.course
    form = ConfirmForm()
    found = operations.rubric_of(course_id)
    drafts = db.session.scalars(queries.drafts_of_course(course_id)).all()
    if not form.validate_on_submit():
        ready = [g for g in drafts if not operations.missing_criteria(g, found)]
        incomplete = [g for g in drafts if operations.missing_criteria(g, found)]
        return _page("grading/grades_release_all.html", membership, 422 if request.method == "POST" else 200,
                     ready=ready, incomplete=incomplete, form=form)
    released = operations.release_all(course, by=membership)
    db.session.commit()
    passback.kick()
    flash(ngettext("%(num)d grade released.", "%(num)d grades released.", len(released)), "success")
    left = len(drafts) - len(released)
    if left:
        flash(ngettext("%(num)d draft is incomplete and stays a draft.",
                       "%(num)d drafts are incomplete and stay drafts.", left), "warning")
    return redirect(url_for(".index", course_id=course_id))


@bp.post("/c/<int:course_id>/grades/<int:intern_id>/retry")
def retry(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    intern = load_intern(course_id, intern_id)
    ensure(operations.can_grade(membership))
    found = operations.grade_of(course_id, intern_id) or abort(404)
    operations.retry_delivery(found, by=membership)
    db.session.commit()
    passback.kick()
    flash(_("The score of %(name)s will be sent again now.", name=intern.user.display_name), "success")
    return redirect(url_for(".index", course_id=course_id, _anchor=f"intern-{intern_id}"))


# --- the intern's own grade -------------------------------------------------------------------------


@bp.get("/c/<int:course_id>/grade")
def mine(course_id: int):
    """An intern's released grade; a draft looks exactly like no grade at all."""
    membership = load_membership(course_id)
    ensure(membership.role is Role.intern)
    found = operations.grade_of(course_id, membership.user_id)
    if found is not None and not operations.can_view_grade(membership, found):
        found = None
    marks = {}
    if found is not None:
        marks = {m.criterion_id: m for m in found.marks}
    return _page("grading/grade_show.html", membership, grade=found, marks=marks,
                 rubric=operations.rubric_of(course_id) if found is not None else None)
