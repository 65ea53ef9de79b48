from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portfolio.journal.weeks import current_week

ZONE = "Europe/Berlin"


class FakeLMS:
    """An LMS that answers from a list (or raises what it was given)."""

    def __init__(self, roster=None, *, supported=True, error: Exception | None = None):
        self.roster, self.supported, self.error, self.fetched = list(roster or []), supported, error, []

    def grades_supported(self, course):
        return False

    def send_score(self, course, score):
        raise AssertionError("no score is sent here")

    def roster_supported(self, course):
        return self.supported

    def fetch_roster(self, course):
        self.fetched.append(course.id)
        if self.error is not None:
            raise self.error
        return list(self.roster)


@pytest.fixture
def fake_lms(app, monkeypatch):
    """Register a FakeLMS as the app's LMS for one test (monkeypatch puts the old one back)."""
    from portfolio.lms import EXTENSION

    def install(**kwargs) -> FakeLMS:
        fake = FakeLMS(**kwargs)
        monkeypatch.setitem(app.extensions, EXTENSION, fake)
        return fake

    return install


def this_monday() -> date:
    return current_week(ZONE)


def weeks_ago(n: int) -> date:
    return this_monday() - timedelta(weeks=n)


@pytest.fixture
def bulk_cohort(app):
    """``make(course_id, n, objective_ids)``: n interns, each with a placement over the last
    five weeks and the next three, one approved week, one submitted week (two tasks, one
    per objective), a released grade synced to the LMS for even ones: inserted in a few
    executemany statements. Returns the interns' user ids in order."""
    from portfolio.db import db
    from portfolio.grading.models import DeliveryState, Grade, GradeState, ScoreDelivery
    from portfolio.journal.models import Entry, EntryState, Task, task_objective
    from portfolio.people.models import Course, Membership, Role, User
    from portfolio.placements.models import Placement

    def make(course_id: int, n: int, objective_ids: list[int], prefix: str = "bulk") -> list[int]:
        now = datetime.now(timezone.utc)
        with app.app_context():
            course = db.session.get(Course, course_id)
            subs = [f"{prefix}-{i}" for i in range(n)]
            db.session.execute(sa.insert(User), [
                {"platform_id": course.platform_id, "lti_sub": s, "name": f"Bulk Intern {i:04d}",
                 "email": f"{s}@example.test", "created_at": now, "last_seen_at": now if i % 3 else None}
                for i, s in enumerate(subs)])
            ids = dict(db.session.execute(sa.select(User.lti_sub, User.id).where(
                User.platform_id == course.platform_id, User.lti_sub.in_(subs))).all())
            user_ids = [ids[s] for s in subs]
            db.session.execute(sa.insert(Membership), [
                {"user_id": u, "course_id": course_id, "role": Role.intern, "created_at": now, "updated_at": now}
                for u in user_ids])
            db.session.execute(sa.insert(Placement), [
                {"course_id": course_id, "intern_id": u, "host_organisation": "Bulk GmbH", "country": "DE",
                 "city": "Berlin", "start_date": weeks_ago(5), "end_date": this_monday() + timedelta(weeks=3, days=4),
                 "hours_per_week": 10, "timezone": ZONE, "work_language": "en", "created_at": now, "updated_at": now}
                for u in user_ids])
            entries = []
            for u in user_ids:
                entries.append({"course_id": course_id, "intern_id": u, "week_start": weeks_ago(5), "revision": 1,
                                "state": EntryState.approved, "reflection": "r", "reflection_html": "<p>r</p>",
                                "submitted_at": now - timedelta(days=30), "submissions": 1,
                                "created_at": now, "updated_at": now})
                entries.append({"course_id": course_id, "intern_id": u, "week_start": weeks_ago(4), "revision": 1,
                                "state": EntryState.submitted, "reflection": "r", "reflection_html": "<p>r</p>",
                                "submitted_at": now - timedelta(days=20), "submissions": 1,
                                "created_at": now, "updated_at": now})
            db.session.execute(sa.insert(Entry), entries)
            entry_ids = db.session.execute(sa.select(Entry.id, Entry.intern_id).where(
                Entry.course_id == course_id, Entry.intern_id.in_(user_ids)).order_by(Entry.id)).all()
            db.session.execute(sa.insert(Task), [
                {"entry_id": e, "position": k, "description": "task", "hours": 4}
                for e, _ in entry_ids for k in range(2)])
            tasks = db.session.execute(sa.select(Task.id, Task.position).join(Entry).where(
                Entry.course_id == course_id, Entry.intern_id.in_(user_ids))).all()
            if objective_ids:
                db.session.execute(sa.insert(task_objective), [
                    {"task_id": t, "objective_id": objective_ids[pos % len(objective_ids)]} for t, pos in tasks])
            graded = user_ids[::2]
            db.session.execute(sa.insert(Grade), [
                {"course_id": course_id, "intern_id": u, "state": GradeState.released, "score": 8, "score_maximum": 10,
                 "comment": "", "created_at": now, "updated_at": now, "released_at": now} for u in graded])
            grade_ids = db.session.execute(sa.select(Grade.id).where(
                Grade.course_id == course_id, Grade.intern_id.in_(graded))).scalars().all()
            db.session.execute(sa.insert(ScoreDelivery), [
                {"grade_id": g, "course_id": course_id, "state": DeliveryState.synced, "score_given": 8,
                 "score_maximum": 10, "timestamp": now, "attempts": 1, "next_attempt_at": now, "created_at": now}
                for g in grade_ids])
            db.session.commit()
            return user_ids

    return make
