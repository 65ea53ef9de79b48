"""The review queue, read as plain rows: every waiting week of a supervisor's interns (or
of the whole course, for advisors) with its tasks, objectives and evidence. The queue is
read often and never changed through this page, so it needs neither full objects nor
their change tracking; decisions load the entry itself (``views.decide``).

The content hash of each week is computed from the same rows and is the very value
``operations.content_hash`` gives for the entry: a decision compares the two."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple

import sqlalchemy as sa

from portfolio.db import db
from portfolio.evidence.models import Evidence
from portfolio.journal.models import Entry, EntryState, Task, task_objective
from portfolio.objectives.models import Objective
from portfolio.people.models import Membership, PersonRow, Role, User
from portfolio.signoff import operations
from portfolio.signoff.models import Supervision


class ObjectiveLabel(NamedTuple):
    code: str
    title: str


class EvidenceFile(NamedTuple):
    id: int
    original_name: str
    size: int
    sha256: str
    thumbnail_name: str | None


@dataclass(slots=True)
class WaitingTask:
    position: int
    description: str
    hours: Decimal
    objectives: list[ObjectiveLabel] = field(default_factory=list)  # in the framework's order


@dataclass(slots=True)
class WaitingWeek:
    """A submitted week as the queue shows it and as its content hash covers it."""

    id: int
    course_id: int
    intern_id: int
    week_start: date
    revision: int
    state: EntryState
    reflection: str
    reflection_html: str
    submitted_at: datetime | None
    intern: PersonRow
    tasks: list[WaitingTask] = field(default_factory=list)  # by position
    evidence: list[EvidenceFile] = field(default_factory=list)  # by id
    content_hash: str = ""

    @property
    def hours(self) -> Decimal:
        return sum((t.hours for t in self.tasks), Decimal(0))


# Built once: a page asks the same questions every time, with other ids.
_ids = sa.bindparam("ids", expanding=True)
_person = (User.id, User.name, User.email)
_week_columns = (Entry.id, Entry.course_id, Entry.intern_id, Entry.week_start, Entry.revision, Entry.state,
                 Entry.reflection, Entry.reflection_html, Entry.submitted_at)
_waiting = sa.and_(Entry.course_id == sa.bindparam("course_id"), Entry.state == EntryState.submitted)
# An advisor's queue: every waiting week of the course, with its intern.
_WEEKS = (sa.select(sa.null(), *_person, *_week_columns).join(User, User.id == Entry.intern_id).where(_waiting)
          .order_by(Entry.submitted_at, Entry.id))
# A supervisor's queue: each intern they supervise, with a row for every waiting week or one
# without a week; the page names all their interns either way.
_WEEKS_OF_SUPERVISOR = (
    sa.select(Supervision.id, *_person, *_week_columns).select_from(Supervision)
    .join(User, User.id == Supervision.intern_id)
    .outerjoin(Entry, sa.and_(Entry.intern_id == User.id, _waiting))
    .where(Supervision.supervisor_id == sa.bindparam("supervisor_id"),
           Supervision.course_id == sa.bindparam("course_id"), Supervision.ended_at.is_(None))
    .order_by(Entry.submitted_at, Entry.id, Supervision.id))
# One row per task and objective; a task without objectives comes once, with no code.
_TASKS = (sa.select(Task.entry_id, Task.id, Task.position, Task.description, Task.hours, Objective.code, Objective.title)
          .outerjoin(task_objective, task_objective.c.task_id == Task.id)
          .outerjoin(Objective, Objective.id == task_objective.c.objective_id)
          .where(Task.entry_id.in_(_ids))
          .order_by(Task.entry_id, Task.position, Task.id, Objective.position, Objective.id))
_EVIDENCE = (sa.select(Evidence.entry_id, Evidence.id, Evidence.original_name, Evidence.size, Evidence.sha256,
                       Evidence.thumbnail_name)
             .where(Evidence.entry_id.in_(_ids)).order_by(Evidence.id))


class Queue(NamedTuple):
    weeks: list[WaitingWeek]  # oldest first
    interns: list[PersonRow]  # a supervisor's interns, waiting or not, in the order they were invited


def review_queue(membership: Membership) -> Queue:
    """Submitted weeks of the person's interns (a supervisor's, or all for advisors), oldest
    first, each with its intern, tasks, objectives, evidence and content hash: three
    statements however many weeks wait."""
    if membership.role is Role.supervisor:
        rows = db.session.execute(_WEEKS_OF_SUPERVISOR, {"course_id": membership.course_id,
                                                         "supervisor_id": membership.user_id}).all()
    else:
        rows = db.session.execute(_WEEKS, {"course_id": membership.course_id}).all()
    interns: dict[int, tuple[int, PersonRow]] = {}
    weeks: dict[int, WaitingWeek] = {}  # by id: an intern supervised twice still lists each week once
    for supervision_id, intern_id, name, email, *week in rows:
        person = PersonRow(intern_id, name, email)
        interns.setdefault(intern_id, (supervision_id, person))
        if week[0] is not None and week[0] not in weeks:
            weeks[week[0]] = WaitingWeek(*week, intern=person)
    named = [person for _, person in sorted(interns.values(), key=lambda item: item[0] or 0)] \
        if membership.role is Role.supervisor else []
    by_id, weeks = weeks, list(weeks.values())
    if not weeks:
        return Queue(weeks, named)
    ids = {"ids": list(by_id)}

    tasks: dict[int, WaitingTask] = {}
    for entry_id, task_id, position, description, hours, code, title in db.session.execute(_TASKS, ids):
        task = tasks.get(task_id)
        if task is None:
            task = tasks[task_id] = WaitingTask(position, description, hours)
            by_id[entry_id].tasks.append(task)
        if code is not None:
            task.objectives.append(ObjectiveLabel(code, title))

    for entry_id, *file in db.session.execute(_EVIDENCE, ids):
        by_id[entry_id].evidence.append(EvidenceFile(*file))

    for week in weeks:  # a WaitingWeek carries what the hash covers, under the entry's names
        week.content_hash = operations.content_hash(week, week.evidence)
    return Queue(weeks, named)


def waiting_weeks(membership: Membership) -> list[WaitingWeek]:
    return review_queue(membership).weeks
