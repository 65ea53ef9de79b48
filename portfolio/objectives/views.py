"""The objective framework pages: everyone in the course reads it, advisors shape it."""

from __future__ import annotations

from itertools import groupby

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext

from portfolio.db import db
from portfolio.errors import ensure
from portfolio.objectives import importers, operations, queries
from portfolio.objectives.forms import ImportForm, ObjectiveForm
from portfolio.objectives.models import Objective
from portfolio.people.access import load_membership

bp = Blueprint("objectives", __name__)

MAX_MESSAGES = 20  # a badly broken file should not produce a page of thousands of lines


def load_objective(course_id: int, objective_id: int) -> Objective:
    """The objective of this course, else 404."""
    objective = db.session.scalar(queries.objective_in_course(objective_id, course_id))
    if objective is None:
        abort(404)
    return objective


def by_area(objectives: list[Objective]) -> list[tuple[str | None, list[Objective]]]:
    """Objectives grouped by area, areas in the order of their first objective."""
    order = {}
    for o in objectives:
        order.setdefault(o.area, len(order))
    ordered = sorted(objectives, key=lambda o: order[o.area])  # stable: positions kept within an area
    return [(area, list(group)) for area, group in groupby(ordered, key=lambda o: o.area)]


def _status() -> int:
    """A form page shown again after a POST is showing what was wrong with it."""
    return 422 if request.method == "POST" else 200


def _page(template: str, membership, status: int = 200, **context):
    return render_template(template, course=membership.course, membership=membership, **context), status


def _to_index(course_id: int, objective: Objective | None = None):
    anchor = f"objective-{objective.id}" if objective is not None else None
    return redirect(url_for(".index", course_id=course_id, _anchor=anchor))


@bp.get("/c/<int:course_id>/objectives")
def index(course_id: int):
    membership = load_membership(course_id)
    manage = Objective.can_manage(membership)
    objectives = db.session.scalars(queries.course_objectives(course_id, include_retired=manage)).all()
    used = dict(db.session.execute(queries.task_counts(course_id)).all()) if manage else {}
    return _page("objectives/index.html", membership, groups=by_area(objectives), manage=manage, used=used)


@bp.route("/c/<int:course_id>/objectives/new", methods=["GET", "POST"])
def create(course_id: int):
    membership = load_membership(course_id)
    ensure(Objective.can_manage(membership))
    form = ObjectiveForm()
    if form.validate_on_submit():
        try:
            objective = operations.create_objective(membership, **form.values())
        except operations.CodeTaken as taken:
            form.code.errors.append(str(taken.description))
        else:
            db.session.commit()
            flash(_("Objective %(code)s added.", code=objective.code), "success")
            return _to_index(course_id, objective)
    return _page("objectives/objective_edit.html", membership, _status(), form=form, objective=None)


@bp.route("/c/<int:course_id>/objectives/<int:objective_id>/edit", methods=["GET", "POST"])
def edit(course_id: int, objective_id: int):
    membership = load_membership(course_id)
    objective = load_objective(course_id, objective_id)
    ensure(Objective.can_manage(membership))
    form = ObjectiveForm(obj=objective)
    if form.validate_on_submit():
        try:
            operations.update_objective(objective, membership, **form.values())
        except operations.CodeTaken as taken:
            form.code.errors.append(str(taken.description))
        else:
            db.session.commit()
            flash(_("Objective %(code)s saved.", code=objective.code), "success")
            return _to_index(course_id, objective)
    return _page("objectives/objective_edit.html", membership, _status(), form=form,
                 objective=objective)


@bp.post("/c/<int:course_id>/objectives/<int:objective_id>/move")
def move(course_id: int, objective_id: int):
    membership = load_membership(course_id)
    objective = load_objective(course_id, objective_id)
    ensure(Objective.can_manage(membership))
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    operations.move_objective(objective, membership, direction)
    db.session.commit()
    return _to_index(course_id, objective)


@bp.post("/c/<int:course_id>/objectives/<int:objective_id>/retire")
def retire(course_id: int, objective_id: int):
    membership = load_membership(course_id)
    objective = load_objective(course_id, objective_id)
    ensure(Objective.can_manage(membership))
    operations.retire_objective(objective, membership)
    db.session.commit()
    flash(_("Objective %(code)s retired: interns no longer see it.", code=objective.code), "success")
    return _to_index(course_id, objective)


@bp.post("/c/<int:course_id>/objectives/<int:objective_id>/reactivate")
def reactivate(course_id: int, objective_id: int):
    membership = load_membership(course_id)
    objective = load_objective(course_id, objective_id)
    ensure(Objective.can_manage(membership))
    operations.reactivate_objective(objective, membership)
    db.session.commit()
    flash(_("Objective %(code)s is active again.", code=objective.code), "success")
    return _to_index(course_id, objective)


@bp.post("/c/<int:course_id>/objectives/<int:objective_id>/delete")
def delete(course_id: int, objective_id: int):
    membership = load_membership(course_id)
    objective = load_objective(course_id, objective_id)
    ensure(Objective.can_manage(membership))
    code = objective.code
    operations.delete_objective(objective, membership)
    db.session.commit()
    flash(_("Objective %(code)s deleted.", code=code), "success")
    return _to_index(course_id)


@bp.route("/c/<int:course_id>/objectives/copy", methods=["GET", "POST"])
def copy(course_id: int):
    membership = load_membership(course_id)
    ensure(Objective.can_manage(membership))
    if request.method == "GET":
        sources = db.session.execute(queries.copy_sources(membership.course)).all()
        return _page("objectives/objectives_copy.html", membership, sources=sources)
    source = db.session.scalar(queries.copy_source(membership.course, request.form.get("source_id", -1, type=int)))
    if source is None:
        abort(404)
    copied, skipped = operations.copy_objectives(source, membership)
    db.session.commit()
    flash(ngettext("Copied %(num)d objective from %(course)s.", "Copied %(num)d objectives from %(course)s.",
                   len(copied), course=source.display_title), "success")
    if skipped:
        flash(_("Skipped, because this course already has these codes: %(codes)s.", codes=", ".join(skipped)),
              "warning")
    return _to_index(course_id)


@bp.get("/c/<int:course_id>/objectives/export.csv")
def export(course_id: int):
    membership = load_membership(course_id)
    ensure(Objective.can_manage(membership))
    objectives = db.session.scalars(queries.course_objectives(course_id, include_retired=True)).all()
    return Response(importers.export_csv(objectives), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="objectives-course-{course_id}.csv"',
    })


@bp.route("/c/<int:course_id>/objectives/import", methods=["GET", "POST"], endpoint="import")
def import_file(course_id: int):
    membership = load_membership(course_id)
    ensure(Objective.can_manage(membership))
    form = ImportForm()
    if form.validate_on_submit():
        data = form.file.data.read(importers.MAX_BYTES + 1)
        try:
            rows = importers.PARSERS[form.format.data](data)
        except importers.ImportProblem as problem:
            form.file.errors.extend(_shortened(problem.messages))
        else:
            created, updated = operations.import_objectives(rows, membership, source=form.format.data)
            db.session.commit()
            flash(_("Import done: %(created)d objectives added, %(updated)d updated.", created=created,
                    updated=updated), "success")
            return _to_index(course_id)
    return _page("objectives/objectives_import.html", membership, _status(), form=form,
                 max_rows=importers.MAX_ROWS)


def _shortened(messages: list[str]) -> list[str]:
    if len(messages) <= MAX_MESSAGES:
        return messages
    rest = len(messages) - MAX_MESSAGES
    return messages[:MAX_MESSAGES] + [ngettext("… and %(num)d more problem.", "… and %(num)d more problems.", rest)]
