"""The journal's pages. Each route loads (scoped to the course), authorizes, calls one
operation, commits and redirects; a form that fails keeps everything typed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

import sqlalchemy as sa
from babel.dates import format_date
from babel.numbers import format_decimal
from flask import Blueprint, abort, flash, get_template_attribute, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import selectinload

from portfolio.db import db
from portfolio.errors import ensure
from portfolio.journal import operations, progress
from portfolio.journal.forms import DecisionForm, EntryForm
from portfolio.notify.delivery import kick
from portfolio.signoff import notifications as signoff_mail
from portfolio.signoff.operations import content_hash
from portfolio.journal.models import Entry, Task
from portfolio.journal.queries import active_objectives, newest_entry, revision_rows, revisions_of_week
from portfolio.journal.weeks import parse_week
from portfolio.people.access import load_membership
from portfolio.people.models import Course, Membership, Role
from portfolio.placements.operations import placement_of
from portfolio.templating import Memo, Numbers
from portfolio.urls import url_for_each

bp = Blueprint("journal", __name__)


# --- loading --------------------------------------------------------------------------


# An entry's pages and writes read every task with its objectives: two statements, not one per task.
WITH_TASKS = selectinload(Entry.tasks).selectinload(Task.objectives)


def load_entry(membership: Membership, entry_id: int) -> Entry:
    """An entry of the current course that the person may see: else 404 (other course) or 403."""
    entry = db.session.scalar(sa.select(Entry).where(Entry.id == entry_id, Entry.course_id == membership.course_id)
                              .options(WITH_TASKS))
    if entry is None:
        abort(404)
    ensure(entry.can_view(membership))
    return entry


def load_week(value: str) -> date:
    return parse_week(value) or abort(404)


def course_objectives(course: Course, entry: Entry | None) -> list[tuple[int, str, bool]]:
    """(id, label, retired) of the objectives a task may serve, in the framework's order:
    the active ones (kept by the process, ``active_objectives``), plus retired ones the
    entry's tasks still name (loaded with the tasks)."""
    retired = {o.id: o for t in (entry.tasks if entry else []) for o in t.objectives if o.is_retired}
    listed = sorted([*active_objectives(course), *retired.values()], key=lambda o: (o.position, o.code))
    return [(o.id, f"{o.code} — {o.title}", o.id in retired) for o in listed]


def _progress_for(course: Course, intern_id: int):
    placement = placement_of(course.id, intern_id)
    objectives = active_objectives(course)
    revisions = []
    if placement is not None:
        revisions = progress.revisions_from_rows(db.session.connection().execute(
            revision_rows(), {"course_id": course.id, "intern_id": intern_id}).all())
    return placement, progress.compute_from_revisions(placement, revisions, objectives)


@lru_cache(maxsize=4096)
def _week_label(pattern: str, locale: str, start: date) -> Markup:
    """"Week of <date>" as ``pattern`` (the translation) and the locale write it: a pure
    function of the three, and the same Mondays come back on every visit."""
    return Markup(pattern) % {"date": format_date(start, "medium", locale=locale)}


@lru_cache(maxsize=1024)
def _hours_label(pattern: str, locale: str, hours: Decimal) -> Markup:
    return Markup(pattern) % {"hours": format_decimal(hours, locale=locale)}


# The list of weeks as HTML, by everything it shows: the intern's home viewed again shows
# the same weeks until one of them changes.
_TIMELINES = Memo(1_000)  # some 10 KB a year of weeks
_SHARED = Numbers(1_000)


def _timeline_html(course, weeks: list[progress.Week], placement, zone: str | None, *, own: bool) -> Markup:
    """The journal's weeks as ``journal/_timeline.html`` lists them, rendered once for
    each state of the weeks, language, clock and place the app is mounted."""
    shown = _SHARED.of((course.id, request.script_root, str(get_locale()), own, zone, course.timezone,
                        placement.timezone))
    key = (shown, tuple((w.start, w.status, w.is_current, w.entry.id if w.entry is not None else None,
                         w.hours if w.entry is not None else None) for w in weeks))
    found = _TIMELINES.get(key)
    if found is None:
        timeline_list = get_template_attribute("journal/_timeline.html", "timeline_list")
        found = _TIMELINES.keep(key, timeline_list(_timeline(course.id, weeks, own=own), own, placement.timezone,
                                                   zone, course.timezone))
    return found


def _timeline(course_id: int, weeks: list[progress.Week], *, own: bool) -> list[tuple]:
    """Per week: (week, label, link or None, hours or None). Formatted here, once per page,
    rather than through a date filter, two translations and a URL lookup per row of the template."""
    locale = str(get_locale())
    week_label, hours_label = _("Week of %(date)s"), _("%(hours)s h")
    week_url = url_for_each(".week", "week", course_id=course_id)
    entry_url = url_for_each(".show", "entry_id", course_id=course_id)
    rows = []
    for week in weeks:
        if own:
            href = week_url(week.start.isoformat())
        elif week.entry is not None:
            href = entry_url(week.entry.id)
        else:
            href = None
        hours = _hours_label(hours_label, locale, week.hours) if week.entry is not None else None
        rows.append((week, _week_label(week_label, locale, week.start), href, hours))
    return rows


# --- the intern's home and the advisor's view of it -------------------------------------


@bp.get("/c/<int:course_id>/journal")
def home(course_id: int):
    membership = load_membership(course_id)
    if membership.role is not Role.intern:
        return redirect(url_for("placements.index", course_id=course_id))
    placement, summary = _progress_for(membership.course, membership.user_id)
    timeline = _timeline_html(membership.course, summary.weeks, placement, current_user.effective_timezone,
                              own=True) if placement is not None else None
    return render_template("journal/journal_home.html", course=membership.course, membership=membership,
                           intern=membership.user, placement=placement, progress=summary, own=True,
                           timeline_html=timeline)


@bp.get("/c/<int:course_id>/interns/<int:intern_id>/journal")
def intern(course_id: int, intern_id: int):
    membership = load_membership(course_id)
    ensure(membership.role in (Role.advisor, Role.admin))
    intern_membership = db.session.scalar(sa.select(Membership).where(
        Membership.course_id == course_id, Membership.user_id == intern_id, Membership.role == Role.intern)) or abort(404)
    placement, summary = _progress_for(membership.course, intern_id)
    timeline = _timeline_html(membership.course, summary.weeks, placement, current_user.effective_timezone,
                              own=False) if placement is not None else None
    return render_template("journal/journal_home.html", course=membership.course, membership=membership,
                           intern=intern_membership.user, placement=placement, progress=summary, own=False,
                           timeline_html=timeline)


# --- writing a week -------------------------------------------------------------------------


def _render_edit(membership, form, *, week_start, entry, placement, status=200):
    return render_template("journal/entry_edit.html", course=membership.course, membership=membership, form=form,
                           entry=entry, week_start=week_start, week_end=week_start + timedelta(days=6),
                           placement=placement), status


def _prepare_form(membership, entry: Entry | None) -> EntryForm:
    choices = [(objective_id, label + (_(" (retired)") if retired else ""))
               for objective_id, label, retired in course_objectives(membership.course, entry)]
    if request.method == "POST":
        form = EntryForm()
    elif entry is not None:
        form = EntryForm(data={"reflection": entry.reflection, "tasks": [
            {"description": t.description, "hours": f"{t.hours.normalize():f}", "objectives": [o.id for o in t.objectives]}
            for t in entry.tasks] or [{}]})
    else:
        form = EntryForm()
    form.set_objective_choices(choices)
    return form


def _handle(membership: Membership, week_start: date, entry: Entry | None, placement=None):
    placement = placement or placement_of(membership.course_id, membership.user_id)
    form = _prepare_form(membership, entry)
    if request.method == "GET":
        return _render_edit(membership, form, week_start=week_start, entry=entry, placement=placement)

    action = request.form.get("action", "save")
    if action == "add_task" and len(form.tasks) < form.tasks.max_entries:
        form.tasks.append_entry()
        form.set_objective_choices(form.tasks[0].objectives.choices)
        return _render_edit(membership, form, week_start=week_start, entry=entry, placement=placement)
    if action.startswith("remove_task-"):
        index = action.removeprefix("remove_task-")
        form.tasks.entries = [t for t in form.tasks.entries if t.id != f"tasks-{index}"] or form.tasks.entries
        return _render_edit(membership, form, week_start=week_start, entry=entry, placement=placement)

    valid = form.validate_on_submit()
    if valid and action == "submit":
        valid = form.require_complete()
    if not valid:
        return _render_edit(membership, form, week_start=week_start, entry=entry, placement=placement, status=422)

    entry = entry or operations.start_entry(membership, placement, week_start)
    operations.save_draft(entry, form.reflection.data or "", form.task_data(), by=membership)
    # Where to go next is known before the commit, which expires what the session holds.
    if action == "submit":
        operations.submit_entry(entry, by=membership)
        signoff_mail.entry_submitted(entry)
        target = url_for(".show", course_id=membership.course_id, entry_id=entry.id)
        db.session.commit()
        kick()
        flash(_("The week is submitted for sign-off."), "success")
        return redirect(target)
    target = url_for(".edit", course_id=membership.course_id, entry_id=entry.id)
    db.session.commit()
    flash(_("Your draft is saved."), "success")
    return redirect(target)


@bp.route("/c/<int:course_id>/journal/weeks/<week>", methods=["GET", "POST"])
def week(course_id: int, week: str):
    """A week of the intern's own journal: its newest revision, or a blank page to start it."""
    membership = load_membership(course_id)
    ensure(membership.role is Role.intern)
    week_start = load_week(week)
    entry = db.session.scalar(newest_entry(course_id, membership.user_id, week_start).options(WITH_TASKS))
    if entry is not None:
        if request.method == "POST":  # a second tab that started the week too: save into it
            ensure(entry.can_edit(membership), _("This entry cannot be changed now."))
            return _handle(membership, week_start, entry)
        target = ".edit" if entry.can_edit(membership) else ".show"
        return redirect(url_for(target, course_id=course_id, entry_id=entry.id))
    placement = placement_of(course_id, membership.user_id)
    if placement is None:
        flash(_("Set up your placement first: its dates give the journal's weeks."), "error")
        return redirect(url_for("placements.edit_own", course_id=course_id))
    return _handle(membership, week_start, None, placement)


@bp.route("/c/<int:course_id>/entries/<int:entry_id>/edit", methods=["GET", "POST"])
def edit(course_id: int, entry_id: int):
    membership = load_membership(course_id)
    entry = load_entry(membership, entry_id)
    if not entry.can_edit(membership):
        if request.method == "GET" and entry.can_view(membership):
            return redirect(url_for(".show", course_id=course_id, entry_id=entry.id))
        ensure(False, _("This entry cannot be changed now."))
    return _handle(membership, entry.week_start, entry)


@bp.post("/c/<int:course_id>/journal/weeks/<week>/autosave")
def autosave(course_id: int, week: str):
    """Keep what is typed, complete or not: called by the page every few seconds and on leaving it."""
    membership = load_membership(course_id)
    ensure(membership.role is Role.intern)
    week_start = load_week(week)
    entry = db.session.scalar(newest_entry(course_id, membership.user_id, week_start))
    if entry is not None and not entry.can_edit(membership):
        return jsonify(error=_("This entry cannot be changed now.")), 409
    form = _prepare_form(membership, entry)
    entry = entry or operations.start_entry(membership, placement_of(course_id, membership.user_id), week_start)
    operations.save_draft(entry, form.reflection.data or "", form.task_data(), by=membership, autosave=True)
    db.session.commit()
    return jsonify(entry_id=entry.id, saved_at=entry.autosaved_at.isoformat(),
                   edit_url=url_for(".edit", course_id=course_id, entry_id=entry.id))


# --- reading, revising, deciding ---------------------------------------------------------------


@bp.get("/c/<int:course_id>/entries/<int:entry_id>")
def show(course_id: int, entry_id: int):
    membership = load_membership(course_id)
    entry = load_entry(membership, entry_id)
    revisions = list(db.session.scalars(revisions_of_week(course_id, entry.intern_id, entry.week_start)))
    placement = placement_of(course_id, entry.intern_id)
    return render_template("journal/entry_show.html", course=membership.course, membership=membership, entry=entry,
                           revisions=revisions, placement=placement, decision_form=DecisionForm(),
                           is_newest=revisions[0].id == entry.id, content_hash=content_hash(entry))


@bp.post("/c/<int:course_id>/entries/<int:entry_id>/submit")
def submit(course_id: int, entry_id: int):
    membership = load_membership(course_id)
    entry = load_entry(membership, entry_id)
    operations.submit_entry(entry, by=membership)
    signoff_mail.entry_submitted(entry)
    db.session.commit()
    kick()
    flash(_("The week is submitted for sign-off."), "success")
    return redirect(url_for(".show", course_id=course_id, entry_id=entry.id))


@bp.post("/c/<int:course_id>/entries/<int:entry_id>/revise")
def revise(course_id: int, entry_id: int):
    membership = load_membership(course_id)
    entry = load_entry(membership, entry_id)
    revision = operations.revise_entry(entry, by=membership)
    db.session.commit()
    flash(_("A new revision of the week is open. It needs approval again; the approved one stays as it was."), "success")
    return redirect(url_for(".edit", course_id=course_id, entry_id=revision.id))
