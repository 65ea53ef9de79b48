"""The intern's progress at a glance: a timeline of weeks, hours against expected and
per-objective coverage. Pure functions over rows already loaded (no queries).

The rules are read off one revision at a time: its number, state and hours, whether it
holds anything, and how many of its tasks serve each objective. ``compute`` reads them off
entries loaded with their tasks and objectives; ``compute_from_revisions`` off plain
figures (``Revision``) added up from one query's rows, which is what the journal's home
page uses. Both go through the same ``_tally``.
"""

from __future__ import annotations

import enum
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter

from portfolio.journal.models import Entry, EntryState
from portfolio.journal.weeks import current_week, placement_weeks
from portfolio.objectives.models import Objective
from portfolio.placements.models import Placement


class WeekStatus(enum.Enum):
    missing = "missing"  # over, and nothing submitted
    open = "open"  # this week or a future one, not started
    draft = "draft"
    submitted = "submitted"
    changes_requested = "changes_requested"
    approved = "approved"


_STATUS_OF_STATE = {state: WeekStatus(state.value) for state in EntryState}


@dataclass(frozen=True)
class Revision:
    """One revision of a week as figures: what the rules below need of it, without its rows."""

    id: int
    week_start: date
    revision: int
    state: EntryState
    hours: Decimal  # the sum of its tasks' hours
    has_content: bool  # any task, or a reflection
    objective_tasks: Mapping[int, int]  # objective id → how many of its tasks serve it


@dataclass
class Week:
    start: date
    status: WeekStatus
    entry: Entry | Revision | None  # the newest revision
    approved: Entry | Revision | None  # the newest approved revision, which may be older
    is_current: bool
    is_past: bool

    @property
    def hours(self) -> Decimal:
        return self.entry.hours if self.entry else Decimal(0)


@dataclass
class Coverage:
    objective: Objective  # or a row with its id, code, title and target
    approved: int = 0
    submitted: int = 0

    @property
    def covered(self) -> bool:
        return self.approved >= self.objective.target

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.approved / self.objective.target))

    @property
    def pending_percent(self) -> int:
        return min(100 - self.percent, round(100 * self.submitted / self.objective.target))


@dataclass
class Progress:
    weeks: list[Week] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)
    hours_logged: Decimal = Decimal(0)
    hours_approved: Decimal = Decimal(0)
    hours_expected_to_date: Decimal = Decimal(0)
    hours_expected_total: Decimal = Decimal(0)

    @property
    def missing(self) -> list[Week]:
        return [w for w in self.weeks if w.status is WeekStatus.missing]

    def count(self, status: WeekStatus) -> int:
        return sum(1 for w in self.weeks if w.status is status)


def week_status(state: EntryState | None, has_content: bool, ever_approved: bool, start: date,
                this_week: date) -> WeekStatus:
    """A week's status from the state of its newest revision (None: not started): a past
    week with nothing, or with an empty draft and no approved revision, is missing."""
    if state is None:
        return WeekStatus.missing if start < this_week else WeekStatus.open
    if state is EntryState.draft and start < this_week and not ever_approved and not has_content:
        return WeekStatus.missing
    return _STATUS_OF_STATE[state]


def revisions_from_rows(rows: Iterable[tuple]) -> list[Revision]:
    """Revisions added up from plain rows, one per revision, task and objective the task
    serves, a revision's rows together: (entry_id, week_start, revision, state,
    has_reflection, task_id, hours, objective_id), as ``queries.revision_rows`` reads them."""
    read: list[tuple] = []
    for entry_id, week_start, revision, state, has_reflection, task_id, hours, objective_id in rows:
        if not read or read[-1][0] != entry_id:
            tasks: dict[int, Decimal] = {}  # task id → hours, each task once
            served: dict[int, int] = {}  # objective id → tasks
            read.append((entry_id, week_start, revision, state, has_reflection, tasks, served))
        if task_id is not None:
            tasks[task_id] = hours
            if objective_id is not None:
                served[objective_id] = served.get(objective_id, 0) + 1
    return [Revision(entry_id, week_start, revision, state, sum(tasks.values(), Decimal(0)),
                     bool(tasks) or bool(has_reflection), served)
            for entry_id, week_start, revision, state, has_reflection, tasks, served in read]


def _entry_has_content(entry: Entry) -> bool:
    return bool(entry.tasks) or bool(entry.reflection)


def _entry_objective_tasks(entry: Entry) -> Mapping[int, int]:
    return Counter(objective.id for task in entry.tasks for objective in task.objectives)


def compute(placement: Placement | None, entries: list[Entry], objectives: list[Objective],
            now: datetime | None = None) -> Progress:
    """Progress over entries loaded with their tasks (and, for coverage, the tasks' objectives)."""
    return _tally(placement, entries, objectives, now,
                  has_content=_entry_has_content, objective_tasks=_entry_objective_tasks)


def compute_from_revisions(placement: Placement | None, revisions: Iterable[Revision],
                           objectives: list[Objective], now: datetime | None = None) -> Progress:
    """The same progress as ``compute``, over figures already added up per revision. The
    objectives may be plain rows with the attributes the page reads (id, code, title, target)."""
    return _tally(placement, revisions, objectives, now,
                  has_content=attrgetter("has_content"), objective_tasks=attrgetter("objective_tasks"))


def _tally(placement: Placement | None, revisions: Iterable[Entry | Revision], objectives: list[Objective],
           now: datetime | None, *, has_content: Callable[[Entry | Revision], bool],
           objective_tasks: Callable[[Entry | Revision], Mapping[int, int]]) -> Progress:
    """The rules: a week's status, hours logged and approved, expected hours, and the tasks
    that count towards each objective (those of the approved revision, and, as waiting, those
    of a newest revision that is submitted)."""
    progress = Progress(coverage=[Coverage(o) for o in objectives])
    if placement is None:
        return progress
    this_week = current_week(placement.timezone, now)
    by_week: dict[date, list[Entry | Revision]] = defaultdict(list)
    for revision in revisions:
        by_week[revision.week_start].append(revision)

    coverage = {c.objective.id: c for c in progress.coverage}
    by_revision = attrgetter("revision")
    for start in placement_weeks(placement.start_date, placement.end_date):
        week_revisions = sorted(by_week.get(start, ()), key=by_revision)
        newest = week_revisions[-1] if week_revisions else None
        approved = next((e for e in reversed(week_revisions) if e.state is EntryState.approved), None)
        status = week_status(newest.state if newest is not None else None,
                             newest is not None and has_content(newest), approved is not None, start, this_week)
        progress.weeks.append(Week(start, status, newest, approved, start == this_week, start < this_week))

        if newest is not None:
            progress.hours_logged += newest.hours
        if approved is not None:
            progress.hours_approved += approved.hours
        if coverage and approved is not None:
            for objective_id, tasks in objective_tasks(approved).items():
                if objective_id in coverage:
                    coverage[objective_id].approved += tasks
        if coverage and newest is not None and newest.state is EntryState.submitted:
            for objective_id, tasks in objective_tasks(newest).items():
                if objective_id in coverage:
                    coverage[objective_id].submitted += tasks

    weeks_to_date = sum(1 for w in progress.weeks if w.start <= this_week)
    progress.hours_expected_to_date = placement.hours_per_week * weeks_to_date
    progress.hours_expected_total = placement.hours_per_week * len(progress.weeks)
    return progress
