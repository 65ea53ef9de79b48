"""The cohort dashboard (sortable, filterable, exportable as CSV) and the button that
brings in the LMS roster. Only the course's advisors and admins see either."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from portfolio import lms
from portfolio.cohort import summary
from portfolio.cohort.export import cohort_csv
from portfolio.db import db, utcnow
from portfolio.errors import ensure
from portfolio.extensions import current_translations
from portfolio.lms import DeliveryDeferred, DeliveryRefused
from portfolio.people import operations
from portfolio.people.access import load_membership
from portfolio.people.models import Membership

bp = Blueprint("cohort", __name__)

MAX_SEARCH = 200
PER_PAGE = 50  # rows per page: a cohort of thousands stays quick to render and to read


def _load(course_id: int) -> Membership:
    membership = load_membership(course_id)
    ensure(membership.can_view_cohort())
    return membership


def _view_state(objective_ids: set[int]) -> dict:
    """What the query string asks for; anything unknown falls back to the default."""
    sort = request.args.get("sort", "name")
    if not summary.sort_known(sort, objective_ids):
        sort = "name"
    status = request.args.get("status", "")
    return {
        "q": request.args.get("q", "").strip()[:MAX_SEARCH],
        "status": status if status in summary.FILTERS else "",
        "sort": sort,
        "dir": "desc" if request.args.get("dir") == "desc" else "asc",
        "page": request.args.get("page", 1, type=int) or 1,
    }


def _listing(course_id: int, now, page: int | None):
    if summary.refresh(course_id, now):  # keep the figures just computed for the next view
        db.session.commit()
    objectives = summary.objectives_of(course_id)
    state = _view_state({o.id for o in objectives})
    found = summary.listing(course_id, objectives, text=state["q"], status=state["status"], sort=state["sort"],
                            descending=state["dir"] == "desc", page=state["page"] if page else None,
                            per_page=PER_PAGE)
    return found, objectives, state


def _heat(rows, objectives) -> list[list[tuple[int, int, Markup]]]:
    """The heatmap's cells per row: (tasks, shade 0–3, the words a screen reader says), each
    label built once per objective and count rather than once per cell."""
    translations = current_translations()
    labels: dict[tuple[int, int], Markup] = {}
    cells = []
    for row in rows:
        line = []
        for o in objectives:
            n = row.coverage.get(o.id, 0)
            if (o.id, n) not in labels:
                labels[o.id, n] = Markup(translations.ungettext(
                    "task for %(code)s, target %(target)s", "tasks for %(code)s, target %(target)s", n,
                )) % {"code": o.code, "target": o.target}
            level = 0 if n == 0 else (1 if n * 2 < o.target else (2 if n < o.target else 3))
            line.append((n, level, labels[o.id, n]))
        cells.append(line)
    return cells


@bp.get("/c/<int:course_id>/cohort")
def dashboard(course_id: int):
    membership = _load(course_id)
    now = utcnow()
    found, objectives, state = _listing(course_id, now, page=True)
    pages = max(1, -(-found.matching // PER_PAGE))
    state["page"] = min(max(state["page"], 1), pages)
    return render_template(
        "cohort/cohort_show.html", course=membership.course, membership=membership,
        rows=found.rows, heat=_heat(found.rows, objectives), matching=found.matching, total=found.total,
        pages=pages, first=(state["page"] - 1) * PER_PAGE,
        objectives=objectives, state=state, now=now, filters=summary.FILTERS,
        grade_labels=summary.GRADE_LABELS, sync_labels=summary.SYNC_LABELS,
        roster_supported=lms.current().roster_supported(membership.course))


@bp.get("/c/<int:course_id>/cohort.csv")
def export(course_id: int):
    membership = _load(course_id)
    now = utcnow()
    found, objectives, _state = _listing(course_id, now, page=False)
    filename = f"cohort-{membership.course.id}-{now:%Y%m%d}.csv"
    # A byte-order mark, so that spreadsheet programs read the names as UTF-8.
    return Response("\ufeff" + cohort_csv(found.rows, objectives, now), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/c/<int:course_id>/cohort/roster")
def sync_roster(course_id: int):
    membership = _load(course_id)
    course = membership.course
    back = redirect(url_for(".dashboard", course_id=course.id))
    connection = lms.current()
    if not connection.roster_supported(course):
        flash(_("The LMS does not offer this course's roster to the tool."), "error")
        return back
    try:
        members = connection.fetch_roster(course)
    except (DeliveryDeferred, DeliveryRefused) as refusal:
        flash(_("The roster was not synced. The LMS answered: %(message)s", message=refusal.message), "error")
        return back
    result = operations.sync_roster(course, members, by=membership, via="web")
    db.session.commit()
    flash(_("Roster synced: %(added)s added, %(updated)s updated, %(unchanged)s unchanged, %(skipped)s skipped.",
            added=result.added, updated=result.updated, unchanged=result.unchanged, skipped=result.skipped),
          "success")
    return back
