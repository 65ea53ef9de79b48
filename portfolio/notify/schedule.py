"""Mail on a clock: a reminder to interns whose past weeks are missing or still drafts,
and a digest to supervisors of the weeks that wait for them. Both go out on Monday
morning where the recipient is, so the job runs every hour and each run queues only the
mail whose Monday morning it is; the dedupe key makes a second run that morning a no-op.
They queue and flush; the caller commits."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_date
from sqlalchemy.orm import aliased, selectinload

from portfolio.db import db, utcnow
from portfolio.extensions import normalise_locale
from portfolio.journal.models import Entry, EntryState
from portfolio.journal.progress import WeekStatus, compute
from portfolio.journal.weeks import current_week, placement_weeks
from portfolio.notify.operations import queue_mail, zone_of
from portfolio.people.models import Course, Membership, Role, User
from portfolio.placements.models import Placement
from portfolio.signoff.models import Supervision
from portfolio.templating import week_deadline
from portfolio.urls import absolute_url

MORNING = range(8, 12)  # local hours in which Monday's mail goes out
MAX_REMINDED_WEEKS = 4


def is_monday_morning(now: datetime, tz_name: str | None) -> bool:
    local = now.astimezone(zone_of(tz_name))
    return local.weekday() == 0 and local.hour in MORNING


def week_label(week_start, reader: User) -> str:
    """A week's Monday as the reader's language writes dates (as sign-off mails do)."""
    with force_locale(normalise_locale(reader.effective_locale) or "en"):
        return format_date(week_start, "medium")


def send_reminders(now: datetime | None = None) -> int:
    """Monday morning at the host: one reminder per intern whose recent weeks are missing or drafts."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(Placement, Course)
        .join(Course, Course.id == Placement.course_id)
        .join(Membership, sa.and_(Membership.course_id == Placement.course_id,
                                  Membership.user_id == Placement.intern_id, Membership.role == Role.intern))
        .options(selectinload(Placement.intern))
    ).all()
    queued = 0
    for placement, course in rows:
        if not is_monday_morning(now, placement.timezone):
            continue
        this_week = current_week(placement.timezone, now)
        if this_week - timedelta(days=7) not in placement_weeks(placement.start_date, placement.end_date):
            continue  # only while the placement runs: last week must be one of its weeks
        entries = db.session.scalars(
            sa.select(Entry).where(Entry.course_id == course.id, Entry.intern_id == placement.intern_id)
            .options(selectinload(Entry.tasks))
        ).all()
        progress = compute(placement, list(entries), [], now=now)
        overdue = [w for w in progress.weeks
                   if w.is_past and w.status in (WeekStatus.missing, WeekStatus.draft)][-MAX_REMINDED_WEEKS:]
        if not overdue:
            continue
        intern = placement.intern
        message = queue_mail(
            "reminder", to=intern, course=course, dedupe_key=f"reminder:{course.id}:{intern.id}:{this_week.isoformat()}",
            context={
                "intern_name": intern.display_name, "course_title": course.display_title,
                "weeks": [{"week_label": week_label(w.start, intern), "status": w.status.value,
                           "due": week_deadline(w.start, placement.timezone)} for w in overdue],
                # Deadlines where the intern is (the host's zone until they chose one), and in the course's.
                "own_zone": intern.effective_timezone or placement.timezone, "course_zone": course.timezone,
                "action_url": absolute_url("journal.home", course_id=course.id),
            })
        queued += message is not None
    db.session.flush()
    return queued


def send_digests(now: datetime | None = None) -> int:
    """Monday morning where the supervisor is: one digest per course of the weeks waiting for them."""
    now = now or utcnow()
    supervisions = db.session.execute(
        sa.select(Supervision, Course).join(Course, Course.id == Supervision.course_id)
        .where(Supervision.ended_at.is_(None))
        .options(selectinload(Supervision.supervisor), selectinload(Supervision.intern))
        .order_by(Supervision.course_id, Supervision.supervisor_id, Supervision.intern_id)
    ).all()
    groups: dict[tuple[int, int], list[Supervision]] = {}
    for supervision, course in supervisions:
        groups.setdefault((course.id, supervision.supervisor_id), []).append(supervision)
    courses = {course.id: course for _supervision, course in supervisions}

    queued = 0
    for (course_id, _supervisor_id), group in groups.items():
        course, supervisor = courses[course_id], group[0].supervisor
        tz_name = supervisor.effective_timezone or course.timezone or "UTC"
        if not is_monday_morning(now, tz_name):
            continue
        interns = {s.intern_id: s.intern for s in group}
        waiting = [
            {"intern_name": interns[entry.intern_id].display_name,
             "week_label": week_label(entry.week_start, supervisor), "submitted_at": entry.submitted_at}
            for entry in db.session.scalars(waiting_entries(course_id, list(interns)))
        ]
        if not waiting:
            continue
        year, week, _day = now.astimezone(zone_of(tz_name)).isocalendar()
        message = queue_mail(
            "digest", to=supervisor, course=course, dedupe_key=f"digest:{course_id}:{supervisor.id}:{year}-W{week:02d}",
            context={"supervisor_name": supervisor.display_name, "course_title": course.display_title,
                     "waiting": waiting, "action_url": review_url(course_id)})
        queued += message is not None
    db.session.flush()
    return queued


def waiting_entries(course_id: int, intern_ids: list[int]) -> sa.Select:
    """Weeks whose newest revision is submitted and not yet decided, oldest first."""
    newer = aliased(Entry)
    return (
        sa.select(Entry)
        .where(Entry.course_id == course_id, Entry.intern_id.in_(intern_ids), Entry.state == EntryState.submitted,
               ~sa.exists().where(newer.course_id == Entry.course_id, newer.intern_id == Entry.intern_id,
                                  newer.week_start == Entry.week_start, newer.revision > Entry.revision))
        .order_by(Entry.submitted_at, Entry.id)
    )


def review_url(course_id: int) -> str:
    """The supervisor's review queue, or the course home while sign-off has no queue page."""
    if "signoff.queue" in current_app.view_functions:
        return absolute_url("signoff.queue", course_id=course_id)
    return absolute_url("people.home", course_id=course_id)
