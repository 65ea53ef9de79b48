"""The intern's progress at a glance: a timeline of weeks, hours against expected and
per-objective coverage. Pure functions over rows already loaded (no queries)."""

from __future__ import annotations

import enum
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

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


@dataclass
class Week:
    start: date
    status: WeekStatus
    entry: Entry | None  # the newest revision
    approved: Entry | None  # the newest approved revision, which may be older
    is_current: bool
    is_past: bool

    @property
    def hours(self) -> Decimal:
        return self.entry.hours if self.entry else Decimal(0)


@dataclass
class Coverage:
    objective: Objective
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


def compute(placement: Placement | None, entries: list[Entry], objectives: list[Objective],
            now: datetime | None = None) -> Progress:
    progress = Progress(coverage=[Coverage(o) for o in objectives])
    if placement is None:
        return progress
    this_week = current_week(placement.timezone, now)
    by_week: dict[date, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_week[entry.week_start].append(entry)

    coverage = {c.objective.id: c for c in progress.coverage}
    for start in placement_weeks(placement.start_date, placement.end_date):
        revisions = sorted(by_week.get(start, []), key=lambda e: e.revision)
        newest = revisions[-1] if revisions else None
        approved = next((e for e in reversed(revisions) if e.state is EntryState.approved), None)
        if newest is not None:
            status = WeekStatus(newest.state.value)
        else:
            status = WeekStatus.missing if start < this_week else WeekStatus.open
        if status is WeekStatus.draft and start < this_week and approved is None:
            status = WeekStatus.missing if not newest.tasks and not newest.reflection else WeekStatus.draft
        progress.weeks.append(Week(start, status, newest, approved, start == this_week, start < this_week))

        if newest is not None:
            progress.hours_logged += newest.hours
        if approved is not None:
            progress.hours_approved += approved.hours
            for task in approved.tasks:
                for objective in task.objectives:
                    if objective.id in coverage:
                        coverage[objective.id].approved += 1
        if newest is not None and newest.state is EntryState.submitted:
            for task in newest.tasks:
                for objective in task.objectives:
                    if objective.id in coverage:
                        coverage[objective.id].submitted += 1

    weeks_to_date = sum(1 for w in progress.weeks if w.start <= this_week)
    progress.hours_expected_to_date = placement.hours_per_week * weeks_to_date
    progress.hours_expected_total = placement.hours_per_week * len(progress.weeks)
    return progress
