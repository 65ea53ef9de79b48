"""One line per intern: where their placement is, how their weeks stand, how long a
supervisor has kept them waiting, their hours against expected, which objectives their
tasks served, and where their grade is.

Weeks follow the intern's journal page exactly (``portfolio.journal.progress``): a week
is the Monday to Sunday in the placement's time zone; a past week with nothing, or with
an empty draft and no approved revision, is missing. Hours are the live revisions' task
hours; expected hours are the placement's hours per week times the weeks up to and
including the current one. Objective counts are the tasks of the live revisions tagged
with the objective, whatever the week's state.

The figures are kept per intern between views (``intern_standing``, see
``portfolio.cohort.standing``): a view computes only the interns whose journal changed
since, or whose week turned, then filters, sorts and pages the kept rows in the database.
"""

from __future__ import annotations

import enum
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from portfolio.cohort import queries, standing
from portfolio.db import db, utcnow
from portfolio.grading.models import DeliveryState
from portfolio.journal.models import EntryState
from portfolio.journal import progress
from portfolio.journal.queries import active_objectives
from portfolio.journal.progress import WeekStatus
from portfolio.journal.weeks import current_week, placement_weeks, week_bounds

if TYPE_CHECKING:
    from portfolio.people.models import Course


ZERO = Decimal(0)
STORE_PATIENCE_MS = 200  # how long a view waits for writers before it leaves the figures to the next one


class GradeStatus(enum.Enum):
    none = "none"
    draft = "draft"
    released = "released"


class SyncStatus(enum.Enum):
    pending = "pending"
    synced = "synced"
    failed = "failed"


GRADE_LABELS = {GradeStatus.none: _l("not graded"), GradeStatus.draft: _l("draft"),
                GradeStatus.released: _l("released")}
SYNC_LABELS = {SyncStatus.pending: _l("waiting to be sent"), SyncStatus.synced: _l("in the LMS gradebook"),
               SyncStatus.failed: _l("sending failed")}


@dataclass(frozen=True)
class LiveWeek:
    """The live revision of one week, as ``queries.live_weeks`` returns it."""

    state: EntryState
    submitted_at: datetime | None
    has_content: bool
    ever_approved: bool
    hours: Decimal


@dataclass(frozen=True, slots=True)
class Person:
    """The intern as the dashboard shows them."""

    id: int
    name: str | None
    email: str | None
    last_seen_at: datetime | None

    @property
    def display_name(self) -> str:  # the rule of ``User.display_name``
        return self.name or self.email or f"Participant {self.id}"


@dataclass(frozen=True, slots=True)
class Place:
    """The placement as the dashboard shows and counts it."""

    host_organisation: str
    city: str
    country: str
    start_date: date
    end_date: date
    timezone: str
    hours_per_week: Decimal


@dataclass(slots=True)
class InternRow:
    user: Person
    placement: Place | None
    grade: GradeStatus
    sync: SyncStatus | None
    approved: int = 0
    submitted: int = 0
    missing: int = 0
    waiting_since: datetime | None = None  # submission of the oldest week a supervisor has not decided
    hours_logged: Decimal = Decimal(0)
    hours_expected: Decimal = Decimal(0)
    kept_coverage: str | dict[int, int] | None = None  # the kept figures' JSON until first read
    out_of_date: bool = False  # as listed: the kept figures no longer hold

    @property
    def coverage(self) -> dict[int, int]:
        """Objective id → tasks of the live revisions tagged with it."""
        if not isinstance(self.kept_coverage, dict):
            self.kept_coverage = {int(k): v for k, v in json.loads(self.kept_coverage or "{}").items()}
        return self.kept_coverage

    @coverage.setter
    def coverage(self, value: dict[int, int]) -> None:
        self.kept_coverage = value

    @property
    def name(self) -> str:
        return self.user.display_name

    @property
    def never_launched(self) -> bool:
        return self.user.last_seen_at is None


def week_status(live: LiveWeek | None, start: date, this_week: date) -> WeekStatus:
    """The rule of ``progress.week_status``, over a week's aggregate."""
    if live is None:
        return progress.week_status(None, False, False, start, this_week)
    return progress.week_status(live.state, live.has_content, live.ever_approved, start, this_week)


def _sync_status(state: DeliveryState | None) -> SyncStatus | None:
    if state is None:
        return None
    if state is DeliveryState.synced:
        return SyncStatus.synced
    if state is DeliveryState.failed:
        return SyncStatus.failed
    return SyncStatus.pending  # pending or being sent right now


def summarise(placement: Place | None, weeks: dict[date, LiveWeek], row: InternRow,
              now: datetime) -> InternRow:
    if placement is None:
        return row
    this_week = current_week(placement.timezone, now)
    span = placement_weeks(placement.start_date, placement.end_date)
    for start in span:
        live = weeks.get(start)
        status = week_status(live, start, this_week)
        if status is WeekStatus.approved:
            row.approved += 1
        elif status is WeekStatus.submitted:
            row.submitted += 1
            if live.submitted_at is not None and (row.waiting_since is None or live.submitted_at < row.waiting_since):
                row.waiting_since = live.submitted_at
        elif status is WeekStatus.missing:
            row.missing += 1
        if live is not None:
            row.hours_logged += live.hours
    row.hours_expected = placement.hours_per_week * sum(1 for start in span if start <= this_week)
    return row


class Listing(NamedTuple):
    rows: list[InternRow]
    matching: int  # interns the search and the filter keep, over every page
    total: int  # interns of the course
    stale: bool = False  # some intern's kept figures were out of date: ``refresh``, then list again


def refresh(course_id: int, now: datetime | None = None, *, known_stale: bool = False) -> int:
    """Compute and store the figures of the course's interns whose kept figures are missing
    or out of date (a handful of statements, however many); returns how many it stored, for
    the caller to commit when there were any. ``known_stale``: a listing just said some are."""
    now = now or utcnow()
    connection = db.session.connection()
    if not known_stale and not connection.execute(queries.any_stale(), {"course_id": course_id, "now": now}).scalar():
        return 0
    return refresh_rows(course_id, now)[1]


def refresh_rows(course_id: int, now: datetime, intern_ids: set[int] | None = None) -> tuple[dict[int, InternRow], int]:
    """``refresh`` for the out-of-date interns among ``intern_ids`` (None: all of them):
    their rows as computed, and how many were stored."""
    connection = db.session.connection()
    values = {"course_id": course_id, "now": now}
    if intern_ids is not None:
        values["intern_ids"] = sorted(intern_ids)
    stale = connection.execute(queries.stale_of(intern_ids is not None), values).all()  # the versions, read first
    if not stale:
        return {}, 0
    computed = _compute(course_id, stale, now)
    versions = {r.id: r.version or 0 for r in stale}
    postgres = connection.dialect.name == "postgresql"
    try:
        with connection.begin_nested():  # a savepoint: the view's transaction outlives a refusal
            if postgres:  # rows writers hold are skipped; this bounds the wait on a row being created
                connection.execute(sa.text(f"SET LOCAL lock_timeout = '{STORE_PATIENCE_MS}ms'"))
            stored = standing.store(connection, course_id,
                                    {i: (versions[i], _figures(row, now)) for i, row in computed.items()})
    except sa.exc.OperationalError:  # a writer held one of the rows: the kept figures stay as they were
        stored = 0
    finally:
        if postgres:
            connection.execute(sa.text("SET LOCAL lock_timeout TO DEFAULT"))
    return computed, stored


def refresh_all(commit) -> int:
    """``refresh`` every course, committing (``commit``) after each that changed; returns
    how many interns' figures were computed."""
    from portfolio.people.models import Course

    total = 0
    for course_id in db.session.scalars(sa.select(Course.id).order_by(Course.id)).all():
        computed = refresh(course_id)
        if computed:
            commit()
        total += computed
    return total


def objectives_of(course: Course) -> list[sa.Row]:
    """The course's active objectives (id, code, title, target), in the framework's order."""
    return active_objectives(course)


def listing(course_id: int, objectives: list, *, text: str = "", status: str = "", sort: str = "name",
            descending: bool = False, page: int | None = None, per_page: int = 50,
            now: datetime | None = None) -> Listing:
    """The interns the search and the filter keep, sorted, with their kept figures: one
    page of them when ``page`` is given (a page past the end is the last one), else all.
    Filtering, sorting and paging happen in the database, so a page reads its fifty rows
    however large the cohort. All of them: call ``refresh`` first. A page: it says whether
    any figures were out of date (``stale``), for the caller to ``refresh`` and ask again,
    so that the usual view, where none are, costs one statement."""
    connection = db.session.connection()
    column = queries.sort_column(sort, {o.id for o in objectives})
    if column is None:
        sort, column = "name", queries.SORTS["name"]
    if page is None:
        stmt = queries.arranged(queries.matching(course_id, text, status), column, descending)
        rows = [_kept_row(r) for r in connection.execute(stmt)]
        return Listing(rows, len(rows), len(rows))
    page = max(page, 1)
    values = {"course_id": course_id, "now": now or utcnow(), "limit": per_page, "offset": (page - 1) * per_page}
    if text:
        values["needle"] = queries.like_pattern(text)
    found = connection.execute(queries.page(sort, descending, status if status in queries.FILTERS else "",
                                            bool(text)), values).all()
    if found:
        return Listing([_kept_row(r, values["now"]) for r in found], found[0].matching, found[0].total,
                       found[0].stale)
    if connection.execute(queries.any_stale(), values).scalar():  # they may fill this page
        return Listing([], 0, 0, True)
    matching = connection.execute(queries.count(queries.matching(course_id, text, status))).scalar_one()
    last = max(1, -(-matching // per_page))
    if page > last:  # past the end: the last page
        return listing(course_id, objectives, text=text, status=status, sort=sort, descending=descending,
                       page=last, per_page=per_page, now=now)
    total = connection.execute(queries.count(queries.interns(course_id))).scalar_one()
    return Listing([], matching, total)


def _kept_row(r, now: datetime | None = None) -> InternRow:
    # By position, not by name: a page reads two dozen values from each of fifty rows, and a
    # row's attribute lookup costs more than building the row. ``queries.INTERN_FIELDS``
    # names them in this order (a test holds the two together).
    (version, computed_version, valid_until, approved, submitted, missing, waiting_since, hours_logged,
     hours_expected, coverage) = r[_FIGURES:_FIELDS]
    out_of_date = now is not None and (computed_version is None or computed_version != version
                                       or (valid_until is not None and valid_until <= now))
    return _row(r, approved=approved or 0, submitted=submitted or 0, missing=missing or 0,
                waiting_since=waiting_since, hours_logged=hours_logged or ZERO,
                hours_expected=hours_expected or ZERO, kept_coverage=coverage, out_of_date=out_of_date)


def _compute(course_id: int, listed: list, now: datetime) -> dict[int, InternRow]:
    """The figures of the ``listed`` interns, from their journal: four statements at most."""
    ids = {r.id for r in listed}
    narrowed = ids if len(ids) <= standing.BATCH else None  # past that, the whole course reads as fast
    weeks: dict[int, dict[date, LiveWeek]] = defaultdict(dict)
    # A year of weeks for thousands of interns is a lot of rows: plain tuples through Core.
    connection = db.session.connection()
    values = {"course_id": course_id} if narrowed is None else {"course_id": course_id, "intern_ids": sorted(ids)}
    for intern_id, week_start, state, submitted_at, has_reflection, ever_approved, tasks, hours in (
            connection.execute(queries.live_weeks_of(narrowed is not None), values)):
        weeks[intern_id][week_start] = LiveWeek(state, submitted_at, bool(tasks) or bool(has_reflection),
                                                bool(ever_approved), hours or ZERO)
    coverage: dict[int, dict[int, int]] = defaultdict(dict)
    for intern_id, objective_id, tasks in connection.execute(queries.objective_counts_of(narrowed is not None), values):
        coverage[intern_id][objective_id] = tasks
    computed = {}
    for r in listed:
        row = _row(r)
        row.coverage = coverage.get(r.id, {})
        computed[r.id] = summarise(row.placement, weeks.get(r.id, {}), row, now)
    return computed


# ``queries.INTERN_FIELDS``: who, where, the grade, then the kept figures.
_FIGURES, _FIELDS = 14, 24


def _row(listed, **figures) -> InternRow:
    (user_id, name, email, last_seen_at, placement_id, host_organisation, city, country, start_date, end_date,
     timezone, hours_per_week, grade_state, delivery_state) = listed[:_FIGURES]
    grade = GradeStatus.none if grade_state is None else GradeStatus(grade_state.value)
    place = None
    if placement_id is not None:
        place = Place(host_organisation, city or "", country, start_date, end_date, timezone, hours_per_week)
    return InternRow(user=Person(user_id, name, email, last_seen_at), placement=place, grade=grade,
                     sync=_sync_status(delivery_state) if grade is GradeStatus.released else None, **figures)


def _figures(row: InternRow, now: datetime) -> dict:
    valid_until = None
    if row.placement is not None:  # "missing" and "expected" move on when the placement's week turns
        valid_until = week_bounds(current_week(row.placement.timezone, now), row.placement.timezone)[1]
    return dict(valid_until=valid_until, approved=row.approved, submitted=row.submitted, missing=row.missing,
                waiting_since=row.waiting_since, hours_logged=row.hours_logged, hours_expected=row.hours_expected,
                coverage={str(k): v for k, v in row.coverage.items()})


FILTERS = tuple(queries.FILTERS)


def sort_known(name: str, objective_ids: set[int]) -> bool:
    return queries.sort_column(name, objective_ids) is not None
