"""Demo content for a course: objectives, placements in three countries and time zones,
and weeks of journal in every state. Used by the sandbox's ``demo load``; idempotent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from portfolio.db import db, utcnow
from portfolio.grading import operations as grading
from portfolio.journal.models import Entry, EntryState, Task
from portfolio.journal.weeks import current_week
from portfolio.objectives.models import Objective
from portfolio.people.models import Course, User
from portfolio.placements.models import Placement
from portfolio.text import render_markdown

OBJECTIVES = [
    ("COM1", "Communicate professionally across cultures", "Communication", 4,
     "Adapts tone and medium to colleagues and clients of other cultures."),
    ("COM2", "Work in the host country's language", "Communication", 3,
     "Uses the working language in meetings, e-mail and documentation."),
    ("PRO1", "Plan and deliver a project task", "Professional practice", 5,
     "Breaks work into steps, estimates it and delivers on time."),
    ("PRO2", "Apply discipline knowledge at work", "Professional practice", 4,
     "Uses what the degree taught to solve the host's problems."),
    ("REF1", "Reflect on own learning", "Reflection", 3,
     "Names what went well, what did not, and what to change."),
]

PLACEMENTS = {
    # intern key: (host, country, city, time zone, language, weeks before today, weeks after)
    "amara": ("Kiwi Design Studio", "NZ", "Auckland", "Pacific/Auckland", "en", 6, 14),
    "lucia": ("Pacific Start-up Labs", "US", "Los Angeles", "America/Los_Angeles", "en", 5, 15),
    "wei": ("Rheinwerk Engineering GmbH", "DE", "Berlin", "Europe/Berlin", "de", 7, 13),
}

WEEKS = [  # oldest first: the state each past week is in, None for a week left missing
    EntryState.approved, EntryState.approved, EntryState.changes_requested, None, EntryState.submitted,
    EntryState.submitted, EntryState.draft,
]

TASKS = [
    ("Prepared the client workshop and its slides", "7.5", ["COM1", "PRO1"]),
    ("Reviewed the test plan with the QA team", "4", ["PRO2"]),
    ("Wrote the weekly status e-mail in the local language", "1.25", ["COM2"]),
    ("Pair-programmed the data export", "6", ["PRO1", "PRO2"]),
]


RUBRIC = [  # criterion, description, levels (title, points) from best to weakest
    ("Learning objectives", "How far the weeks show the course's objectives being met.",
     [("Excellent", "40"), ("Good", "30"), ("Sufficient", "20"), ("Insufficient", "5")]),
    ("Reflection", "Depth and honesty of the weekly reflections.",
     [("Excellent", "30"), ("Good", "22"), ("Sufficient", "15"), ("Insufficient", "5")]),
    ("Professional conduct", "The supervisor's sign-offs and the regularity of the journal.",
     [("Excellent", "30"), ("Good", "22"), ("Sufficient", "15"), ("Insufficient", "5")]),
]


def load_course_content(course: Course, interns: dict[str, User], advisor: User | None) -> None:
    objectives = _objectives(course)
    if advisor is not None:
        _rubric(course, advisor)
    for key, user in interns.items():
        if key not in PLACEMENTS:
            continue
        placement = _placement(course, user, *PLACEMENTS[key])
        _journal(course, user, placement, objectives, advisor)
    db.session.flush()


def _objectives(course: Course) -> dict[str, Objective]:
    existing = {o.code: o for o in db.session.scalars(sa.select(Objective).where(Objective.course_id == course.id))}
    for position, (code, title, area, target, description) in enumerate(OBJECTIVES, start=1):
        if code not in existing:
            existing[code] = Objective(course_id=course.id, code=code, title=title, area=area, target=target,
                                       description=description, position=position)
            db.session.add(existing[code])
    db.session.flush()
    return existing


def _placement(course, user, host, country, city, tz, language, before, after) -> Placement:
    placement = db.session.scalar(sa.select(Placement).where(Placement.course_id == course.id,
                                                             Placement.intern_id == user.id))
    if placement is None:
        this_week = current_week(tz)
        placement = Placement(course_id=course.id, intern_id=user.id, host_organisation=host, country=country,
                              city=city, timezone=tz, work_language=language, hours_per_week=Decimal("38"),
                              start_date=this_week - timedelta(weeks=before),
                              end_date=this_week + timedelta(weeks=after, days=4))
        db.session.add(placement)
        db.session.flush()
    return placement


def _rubric(course: Course, advisor: User) -> None:
    if (rubric := grading.rubric_of(course.id)) is not None and rubric.criteria:
        return
    for title, description, levels in RUBRIC:
        grading.save_criterion(course, None, title=title, description=description, by=advisor, via="demo",
                               levels=[grading.LevelData(title=t, points=Decimal(p)) for t, p in levels])


def _journal(course, user, placement, objectives, advisor) -> None:
    if db.session.scalar(sa.select(Entry.id).where(Entry.course_id == course.id, Entry.intern_id == user.id).limit(1)):
        return
    this_week = current_week(placement.timezone)
    first = this_week - timedelta(weeks=len(WEEKS) - 1)
    for offset, state in enumerate(WEEKS):
        week = first + timedelta(weeks=offset)
        if state is None or week < placement.start_date:
            continue
        reflection = (f"Week {offset + 1} at {placement.host_organisation}. I **learned** to present to clients "
                      "and to ask for help early.\n\n- What went well: the workshop\n- Next: plan the sprint")
        entry = Entry(course_id=course.id, intern_id=user.id, week_start=week, state=state, reflection=reflection,
                      reflection_html=render_markdown(reflection))
        if state is not EntryState.draft:
            entry.submitted_at = utcnow() - timedelta(days=7 * (len(WEEKS) - offset) - 5)
        if state in (EntryState.approved, EntryState.changes_requested) and advisor is not None:
            entry.decided_at, entry.decided_by_id = entry.submitted_at + timedelta(days=1), advisor.id
            if state is EntryState.changes_requested:
                entry.decision_comment = "Please add the hours of Friday's workshop."
        for position, (description, hours, codes) in enumerate(TASKS[: 2 + offset % 3]):
            task = Task(position=position, description=description, hours=Decimal(hours))
            task.objectives = [objectives[c] for c in codes]
            entry.tasks.append(task)
        db.session.add(entry)
