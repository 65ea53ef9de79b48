"""Every change to the journal: check the rule, change, flush, audit. Never commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from portfolio.audit.operations import record_event
from portfolio.db import db, utcnow
from portfolio.errors import InvalidTransition, ensure
from portfolio.evidence.models import Evidence
from portfolio.journal.models import Entry, EntryState, Task
from portfolio.journal.queries import newest_entry
from portfolio.journal.weeks import placement_weeks
from portfolio.objectives.models import Objective
from portfolio.people.models import Membership, Role
from portfolio.placements.models import Placement
from portfolio.text import render_markdown

MAX_TASK_HOURS = Decimal(80)


@dataclass
class TaskData:
    description: str = ""
    hours: Decimal | None = None
    objective_ids: list[int] = field(default_factory=list)

    @property
    def is_blank(self) -> bool:
        return not self.description.strip() and self.hours is None and not self.objective_ids


def start_entry(membership: Membership, placement: Placement | None, week_start: date) -> Entry:
    """An intern starts a week of their own placement; an existing week is returned as it is."""
    ensure(membership.role is Role.intern)
    if placement is None:
        raise InvalidTransition(_("Set up your placement first: its dates give the journal's weeks."))
    if week_start not in placement_weeks(placement.start_date, placement.end_date):
        raise InvalidTransition(_("This week is outside your placement."))
    entry = db.session.scalar(newest_entry(membership.course_id, membership.user_id, week_start))
    if entry is not None:
        return entry
    entry = Entry(course_id=membership.course_id, intern_id=membership.user_id, week_start=week_start,
                  state=EntryState.draft, revision=1)
    db.session.add(entry)
    db.session.flush()
    record_event("entry.started", by=membership, subject=entry, via="web",
                 week=week_start.isoformat())
    return entry


def _objectives_by_id(course_id: int, ids: set[int]) -> dict[int, Objective]:
    if not ids:
        return {}
    rows = db.session.scalars(sa.select(Objective).where(Objective.course_id == course_id, Objective.id.in_(ids)))
    return {o.id: o for o in rows}


def save_draft(entry: Entry, reflection: str, tasks: list[TaskData], *, by: Membership, autosave: bool = False) -> None:
    """The intern saves what they typed, complete or not, while the entry can be edited.

    Objectives of other courses are ignored; blank task rows are dropped.
    """
    ensure(entry.can_edit(by))
    if (reflection or "") != entry.reflection:
        entry.reflection = reflection or ""
        entry.reflection_html = render_markdown(entry.reflection)
    wanted = [t for t in tasks if not t.is_blank]
    if not _same_tasks(entry.tasks, wanted):  # saving again what is there (an autosave, a submit) writes nothing
        known = _objectives_by_id(entry.course_id, {i for t in wanted for i in t.objective_ids})
        entry.tasks.clear()
        db.session.flush()
        for position, data in enumerate(wanted):
            task = Task(position=position, description=data.description.strip(),
                        hours=data.hours if data.hours is not None else Decimal(0))
            task.objectives = [known[i] for i in dict.fromkeys(data.objective_ids) if i in known]
            entry.tasks.append(task)
    if autosave:
        entry.autosaved_at = utcnow()
    db.session.flush()
    if not autosave:
        record_event("entry.saved", by=by, subject=entry, via="web")


def _same_tasks(tasks: list[Task], wanted: list[TaskData]) -> bool:
    """Whether the entry's tasks already are ``wanted``, in order: the same descriptions,
    hours and objectives (an objective the entry's tasks hold belongs to its course)."""
    return len(tasks) == len(wanted) and all(
        task.position == position and task.description == data.description.strip()
        and task.hours == (data.hours if data.hours is not None else Decimal(0))
        and {o.id for o in task.objectives} == set(data.objective_ids)
        for position, (task, data) in enumerate(zip(tasks, wanted)))


def completeness_problems(entry: Entry) -> list[str]:
    """What keeps an entry from being submitted (empty when nothing does)."""
    problems = []
    if not entry.reflection.strip():
        problems.append(_("Write a reflection on the week."))
    if not entry.tasks:
        problems.append(_("Add at least one task."))
    for number, task in enumerate(entry.tasks, start=1):
        if not task.description:
            problems.append(_("Task %(n)s has no description.", n=number))
        if not (Decimal(0) < task.hours <= MAX_TASK_HOURS):
            problems.append(_("Task %(n)s needs hours between 0 and 80.", n=number))
        if not task.objectives:
            problems.append(_("Task %(n)s serves no objective.", n=number))
    return problems


def submit_entry(entry: Entry, *, by: Membership) -> None:
    """The intern submits a complete draft (or a sent-back entry) for sign-off."""
    ensure(entry.can_submit(by))
    problems = completeness_problems(entry)
    if problems:
        raise InvalidTransition(" ".join(problems))
    previous = entry.state
    entry.state = EntryState.submitted
    entry.submitted_at = utcnow()
    entry.submissions += 1
    db.session.flush()
    record_event("entry.submitted", by=by, subject=entry, via="web",
                 previous=previous.value, revision=entry.revision)


def revise_entry(entry: Entry, *, by: Membership) -> Entry:
    """Correcting an approved week makes a new draft revision; the approved one stays as it was."""
    ensure(entry.can_revise(by))
    newest = db.session.scalar(newest_entry(entry.course_id, entry.intern_id, entry.week_start))
    if newest.id != entry.id:
        raise InvalidTransition(_("A newer revision of this week already exists."))
    revision = Entry(course_id=entry.course_id, intern_id=entry.intern_id, week_start=entry.week_start,
                     revision=entry.revision + 1, state=EntryState.draft, reflection=entry.reflection,
                     reflection_html=entry.reflection_html)
    for task in entry.tasks:
        copy = Task(position=task.position, description=task.description, hours=task.hours)
        copy.objectives = list(task.objectives)
        revision.tasks.append(copy)
    db.session.add(revision)
    db.session.flush()
    for item in entry.evidence:
        db.session.add(Evidence(entry_id=revision.id, original_name=item.original_name, stored_name=item.stored_name,
                                content_type=item.content_type, size=item.size, sha256=item.sha256,
                                thumbnail_name=item.thumbnail_name, uploaded_by_id=item.uploaded_by_id))
    db.session.flush()
    record_event("entry.revised", by=by, subject=revision, via="web",
                 from_entry=entry.id, revision=revision.revision)
    return revision
