"""One line per intern: where their placement is, how their weeks stand, how long a
supervisor has kept them waiting, their hours against expected, which objectives their
tasks served, and where their grade is.

Weeks follow the intern's journal page exactly (``portfolio.journal.progress``): a week
is the Monday to Sunday in the placement's time zone; a past week with nothing, or with
an empty draft and no approved revision, is missing. Hours are the live revisions' task
hours; expected hours are the placement's hours per week times the weeks up to and
including the current one. Objective counts are the tasks of the live revisions tagged
with the objective, whatever the week's state.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from portfolio.cohort import queries
from portfolio.db import db, utcnow
from portfolio.grading.models import DeliveryState
from portfolio.journal.models import EntryState
from portfolio.journal.progress import WeekStatus
from portfolio.journal.weeks import current_week, placement_weeks
from portfolio.objectives.models import Objective
from portfolio.people.models import User
from portfolio.placements.models import Placement


ZERO = Decimal(0)


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


@dataclass
class InternRow:
    user: User
    placement: Placement | None
    grade: GradeStatus
    sync: SyncStatus | None
    approved: int = 0
    submitted: int = 0
    missing: int = 0
    waiting_since: datetime | None = None  # submission of the oldest week a supervisor has not decided
    hours_logged: Decimal = Decimal(0)
    hours_expected: Decimal = Decimal(0)
    coverage: dict[int, int] = field(default_factory=dict)  # objective id → tasks

    @property
    def name(self) -> str:
        return self.user.display_name

    @property
    def never_launched(self) -> bool:
        return self.user.last_seen_at is None


def week_status(live: LiveWeek | None, start: date, this_week: date) -> WeekStatus:
    """The rule of ``progress.compute``, over a week's aggregate instead of its rows."""
    if live is None:
        return WeekStatus.missing if start < this_week else WeekStatus.open
    status = WeekStatus(live.state.value)
    if status is WeekStatus.draft and start < this_week and not live.ever_approved and not live.has_content:
        return WeekStatus.missing
    return status


def _sync_status(state: DeliveryState | None) -> SyncStatus | None:
    if state is None:
        return None
    if state is DeliveryState.synced:
        return SyncStatus.synced
    if state is DeliveryState.failed:
        return SyncStatus.failed
    return SyncStatus.pending  # pending or being sent right now


def summarise(placement: Placement | None, weeks: dict[date, LiveWeek], row: InternRow,
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


def cohort(course_id: int, now: datetime | None = None) -> tuple[list[InternRow], list[Objective]]:
    """Every intern of the course with their figures, and the course's active objectives:
    four queries, whatever the size of the cohort."""
    now = now or utcnow()
    weeks: dict[int, dict[date, LiveWeek]] = defaultdict(dict)
    # A year of weeks for every intern is tens of thousands of rows: read them through the
    # Core connection (no ORM row processing), as plain tuples.
    for intern_id, week_start, state, submitted_at, has_reflection, ever_approved, tasks, hours in (
            db.session.connection().execute(queries.live_weeks(course_id))):
        weeks[intern_id][week_start] = LiveWeek(state, submitted_at, bool(tasks) or bool(has_reflection),
                                                bool(ever_approved), hours or ZERO)
    coverage: dict[int, dict[int, int]] = defaultdict(dict)
    for intern_id, objective_id, tasks in db.session.execute(queries.objective_counts(course_id)):
        coverage[intern_id][objective_id] = tasks
    objectives = list(db.session.scalars(queries.active_objectives(course_id)))

    rows = []
    for user, placement, grade_state, delivery_state in db.session.execute(queries.interns(course_id)):
        grade = GradeStatus.none if grade_state is None else GradeStatus(grade_state.value)
        row = InternRow(user=user, placement=placement, grade=grade,
                        sync=_sync_status(delivery_state) if grade is GradeStatus.released else None,
                        coverage=coverage.get(user.id, {}))
        rows.append(summarise(placement, weeks.get(user.id, {}), row, now))
    return rows, objectives


# --- sorting and filtering, on the rows already built -----------------------------------------

FILTERS = ("waiting", "missing", "never_launched", "not_graded", "sync_failed")

_GRADE_ORDER = {GradeStatus.none: 0, GradeStatus.draft: 1, GradeStatus.released: 2}

SORT_KEYS = {
    "name": lambda r: r.name.casefold(),
    "placement": lambda r: r.placement.host_organisation.casefold() if r.placement else None,
    "dates": lambda r: r.placement.start_date if r.placement else None,
    "approved": lambda r: r.approved,
    "submitted": lambda r: r.submitted,
    "missing": lambda r: r.missing,
    # Oldest submission first when ascending: the longest wait comes first.
    "waiting": lambda r: r.waiting_since,
    "hours": lambda r: r.hours_logged - r.hours_expected if r.placement else None,
    "grade": lambda r: _GRADE_ORDER[r.grade],
}


def sort_key(name: str, objective_ids: set[int]):
    if name in SORT_KEYS:
        return SORT_KEYS[name]
    if name.startswith("objective-") and name.removeprefix("objective-").isdigit():
        objective_id = int(name.removeprefix("objective-"))
        if objective_id in objective_ids:
            return lambda r: r.coverage.get(objective_id, 0)
    return None


def keep(row: InternRow, text: str, status: str) -> bool:
    if text:
        needle = text.casefold()
        if needle not in row.name.casefold() and needle not in (row.user.email or "").casefold():
            return False
    return {
        "waiting": lambda: row.waiting_since is not None,
        "missing": lambda: row.missing > 0,
        "never_launched": lambda: row.never_launched,
        "not_graded": lambda: row.grade is GradeStatus.none,
        "sync_failed": lambda: row.sync is SyncStatus.failed,
    }.get(status, lambda: True)()


def arrange(rows: list[InternRow], *, text: str = "", status: str = "", sort: str = "name",
            descending: bool = False, objective_ids: set[int] = frozenset()) -> list[InternRow]:
    """Filter, then sort; rows without a value for the column (no placement…) come last
    either way, and ties keep name order."""
    chosen = [r for r in rows if keep(r, text, status)]
    chosen.sort(key=lambda r: (r.name.casefold(), r.user.id))
    key = sort_key(sort, objective_ids) or SORT_KEYS["name"]
    present = [r for r in chosen if key(r) is not None]
    absent = [r for r in chosen if key(r) is None]
    present.sort(key=key, reverse=descending)
    return present + absent
