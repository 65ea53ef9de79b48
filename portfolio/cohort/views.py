"""The cohort dashboard (sortable, filterable, exportable as CSV) and the button that
brings in the LMS roster. Only the course's advisors and admins see either."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import Blueprint, Response, flash, get_template_attribute, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portfolio import lms
from portfolio.cohort import summary
from portfolio.cohort.export import cohort_csv
from portfolio.db import commit_keeping_loaded, db, utcnow
from portfolio.errors import ensure
from portfolio.extensions import current_translations
from portfolio.lms import DeliveryDeferred, DeliveryRefused
from portfolio.people import operations
from portfolio.people.access import load_membership
from portfolio.people.models import Course, Membership
from portfolio.templating import CSRF_SLOT, Formats, Memo, Numbers, with_csrf
from portfolio.urls import url_for_each

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


def _listing(course: Course, now, page: bool):
    course_id = course.id
    objectives = summary.objectives_of(course)
    state = _view_state({o.id for o in objectives})

    def listed():
        return summary.listing(course_id, objectives, text=state["q"], status=state["status"], sort=state["sort"],
                               descending=state["dir"] == "desc", page=state["page"] if page else None,
                               per_page=PER_PAGE, now=now)

    found = None if not page else listed()  # a page says whether figures were out of date
    if found is not None and found.stale and found.rows and state["sort"] == "name" and not state["status"]:
        # By name and unfiltered, which interns the page shows, in which order, and how many
        # match do not depend on the figures: the page computes its own out-of-date rows only.
        shown = {r.user.id for r in found.rows if r.out_of_date}
        computed, stored = summary.refresh_rows(course_id, now, shown) if shown else ({}, 0)
        if stored:
            commit_keeping_loaded()  # kept for the next view
        return found._replace(rows=[computed.get(r.user.id, r) for r in found.rows]), objectives, state
    if found is None or found.stale:
        if summary.refresh(course_id, now, known_stale=found is not None):  # kept for the next view
            commit_keeping_loaded()
        found = listed()
    return found, objectives, state


@dataclass(frozen=True, slots=True)
class Line:
    """One intern's row of both tables, every value already in words: a page of fifty
    interns repeats the same formatters, labels and link patterns hundreds of times."""

    href: str
    name: str
    never_launched: bool
    host: str | None  # None: no placement yet
    where: str
    start: str
    end: str
    approved: int
    submitted: int
    missing: int
    waited: str | None
    since: Markup | None
    hours: str
    behind: Markup | None
    grade: str  # the state, for the badge's class and symbol
    grade_label: str
    sync: str | None
    sync_label: str
    heat: list[tuple[int, int, Markup]]  # per objective: tasks, shade 0–3, what a screen reader says


_HEAT_LABELS = Memo(20_000)


def _heat_label(translations, locale: str, code: str, target: int, n: int) -> Markup:
    """What a screen reader says of a heatmap cell, kept for the process: the same few
    objectives and counts come back on every view."""
    key = (locale, code, target, n)
    label = _HEAT_LABELS.get(key)
    if label is None:
        label = _HEAT_LABELS.keep(key, Markup(translations.ungettext(
            "task for %(code)s, target %(target)s", "tasks for %(code)s, target %(target)s", n,
        )) % {"code": code, "target": target})
    return label


# Each intern's two rows as HTML, by everything they show: a dashboard viewed again, or by
# another advisor with the same language and time zone, renders only the rows that changed.
_ROWS = Memo(4_000)  # some 3 KB a row
# What every row of a page shares (course, where the app is mounted, language, zone,
# objectives) stands in a row's key as a number, never reused, rather than as itself:
# hashed once a page, not once a row.
_SHARED = Numbers(1_000)


_LINE_BREAKS = re.compile(r"\s*\n\s*")


def _tight(html: Markup) -> Markup:
    """The row without its template's indentation: a whitespace run with a line break in it
    shows as one space either way (the rows hold no ``pre``), and a page of fifty interns
    loses a quarter of its weight."""
    return Markup(_LINE_BREAKS.sub("\n", html.strip()))


def _rows_html(course_id: int, rows, objectives, now, formats: Formats) -> list[tuple[Markup, Markup]]:
    shown = _SHARED.of((course_id, request.script_root, formats.key, tuple(objectives)))
    found, missing = [], []
    for row in rows:
        coverage = row.kept_coverage if not isinstance(row.kept_coverage, dict) \
            else tuple(sorted(row.kept_coverage.items()))
        waited = formats.duration(now - row.waiting_since) if row.waiting_since else None
        key = (shown, row.user, row.placement, row.grade, row.sync, row.approved, row.submitted, row.missing,
               row.waiting_since, row.hours_logged, row.hours_expected, coverage, waited)
        found.append(_ROWS.get(key))
        if found[-1] is None:
            missing.append((len(found) - 1, key, row))
    if missing:
        intern_row = get_template_attribute("cohort/_rows.html", "intern_row")
        heat_row = get_template_attribute("cohort/_rows.html", "heat_row")
        lines = _lines(course_id, [row for _i, _key, row in missing], objectives, now, formats)
        for (i, key, _row), line in zip(missing, lines):
            found[i] = _ROWS.keep(key, (_tight(intern_row(line)), _tight(heat_row(line))))
    return found


def _lines(course_id: int, rows, objectives, now, formats: Formats) -> list[Line]:
    translations = current_translations()
    since, behind = translations.ugettext("since %(when)s"), translations.ugettext("%(hours)s h behind")
    grade_labels = {k: str(v) for k, v in summary.GRADE_LABELS.items()}
    sync_labels = {k: str(v) for k, v in summary.SYNC_LABELS.items()}
    countries = formats.locale.territories
    head, _slot, tail = url_for("journal.intern", course_id=course_id, intern_id=0).rpartition("/0/")
    locale = str(formats.locale)
    # Per objective: the cell for each count met so far (a page repeats the same few).
    columns = [(o.id, o.code, o.target, {}) for o in objectives]

    def heat(coverage: dict[int, int]) -> list[tuple[int, int, Markup]]:
        cells = []
        for objective_id, code, target, seen in columns:
            n = coverage.get(objective_id, 0)
            cell = seen.get(n)
            if cell is None:
                level = 0 if n == 0 else (1 if n * 2 < target else (2 if n < target else 3))
                cell = seen[n] = (n, level, _heat_label(translations, locale, code, target, n))
            cells.append(cell)
        return cells

    lines = []
    for row in rows:
        p = row.placement
        waiting = row.waiting_since
        lines.append(Line(
            href=f"{head}/{row.user.id}/{tail}", name=row.name, never_launched=row.never_launched,
            host=p.host_organisation if p else None,
            where=(f"{p.city}, " if p and p.city else "") + (countries.get(p.country, p.country) if p else ""),
            start=formats.date(p.start_date) if p else "", end=formats.date(p.end_date) if p else "",
            approved=row.approved, submitted=row.submitted, missing=row.missing,
            waited=formats.duration(now - waiting) if waiting else None,
            since=Markup(since) % {"when": formats.moment(waiting)} if waiting else None,
            hours=f"{formats.number(row.hours_logged)} / {formats.number(row.hours_expected)}" if p else "",
            behind=Markup(behind) % {"hours": formats.number(row.hours_expected - row.hours_logged)}
            if p and row.hours_logged < row.hours_expected else None,
            grade=row.grade.value, grade_label=grade_labels[row.grade],
            sync=row.sync.value if row.sync else None, sync_label=sync_labels[row.sync] if row.sync else "",
            heat=heat(row.coverage)))
    return lines


@bp.get("/c/<int:course_id>/cohort")
def dashboard(course_id: int):
    membership = _load(course_id)
    now = utcnow()
    found, objectives, state = _listing(membership.course, now, page=True)
    pages = max(1, -(-found.matching // PER_PAGE))
    state["page"] = min(max(state["page"], 1), pages)
    formats = Formats()
    rows = _rows_html(course_id, found.rows, objectives, now, formats)
    content = _content(membership.course, state, objectives, lms.current().roster_supported(membership.course),
                       found.matching, found.total, pages, len(rows), formats)
    intern_rows, heat_rows = ("".join(column) for column in zip(*rows)) if rows else ("", "")
    return render_template("cohort/cohort_show.html", course=membership.course, membership=membership,
                           content=with_csrf(content.replace(INTERN_ROWS, intern_rows).replace(HEAT_ROWS, heat_rows)))


# The page around the rows, as HTML, by everything it shows: the same view of a cohort
# (its filter, order, page and counts) renders it once for each language and time zone.
# Markup only templates write marks where each request's rows go.
_CONTENT = Memo(2_000)
INTERN_ROWS, HEAT_ROWS = Markup("<intern-rows>"), Markup("<heat-rows>")


def _content(course, state: dict, objectives, roster_supported: bool, matching: int, total: int, pages: int,
             shown: int, formats: Formats) -> str:
    zone = current_user.effective_timezone or "UTC"
    first = (state["page"] - 1) * PER_PAGE
    key = (course.id, course.display_title, request.script_root, formats.key, zone, tuple(objectives),
           tuple(sorted(state.items())), roster_supported, matching, total, pages, shown)
    found = _CONTENT.get(key)
    if found is None:
        content = get_template_attribute("cohort/_dashboard.html", "dashboard_content")
        found = _CONTENT.keep(key, str(content(
            course, state, summary.FILTERS, objectives, roster_supported, matching, total, pages, first, shown,
            _sort_links(course.id, state), zone, CSRF_SLOT, INTERN_ROWS, HEAT_ROWS)))
    return found


def _sort_links(course_id: int, state: dict):
    """The column headers' links, sort key and direction in turn, from two URLs built once."""
    links = {direction: url_for_each(".dashboard", "sort", course_id=course_id, q=state["q"] or None,
                                     status=state["status"] or None, sort=None, dir=direction)
             for direction in ("asc", "desc")}
    return lambda key, direction: links[direction](key)


@bp.get("/c/<int:course_id>/cohort.csv")
def export(course_id: int):
    membership = _load(course_id)
    now = utcnow()
    found, objectives, _state = _listing(membership.course, now, page=False)
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
