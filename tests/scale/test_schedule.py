"""What Celery is told, and the periodic jobs themselves, run in process (no Redis): the
same functions the scheduler has the workers run."""

from __future__ import annotations

import sqlalchemy as sa
from celery.schedules import crontab

from portfolio import jobs
from portfolio.db import db
from portfolio.lms import EXTENSION, RosterMember
from portfolio.people.models import Membership, Role, User
from tests.scale.conftest import delivery_of, released_grade


class RosterLMS:
    def __init__(self, members):
        self.members, self.sent = members, []

    def grades_supported(self, course):
        return True

    def send_score(self, course, score):
        self.sent.append(score)
        return "200 OK"

    def roster_supported(self, course):
        return True

    def fetch_roster(self, course):
        return self.members


def test_tasks_are_acknowledged_late_and_redelivered_when_a_worker_dies():
    settings = jobs.celery_settings({"REDIS_URL": "redis://redis.example:6379/0", "JOBS_VISIBILITY_TIMEOUT": 900})
    assert settings["broker_url"] == settings["result_backend"] == "redis://redis.example:6379/0"
    assert settings["task_acks_late"] and settings["task_reject_on_worker_lost"]
    assert settings["worker_prefetch_multiplier"] == 1
    assert settings["broker_transport_options"]["visibility_timeout"] == 900


def test_the_schedule_sweeps_the_outboxes_every_minute_reminds_hourly_and_syncs_rosters_daily():
    schedule = {entry["args"][0]: entry["schedule"] for entry in jobs.beat_schedule({}).values()}
    assert schedule["grading.deliver"] == schedule["notify.deliver"] == 60
    assert schedule["notify.reminders"] == crontab(minute=5)
    assert schedule["cohort.refresh"] == crontab(minute="*/10")
    assert schedule["people.sync_rosters"] == crontab(minute=30, hour=3)
    assert set(schedule) <= set(jobs._registry)


def test_without_redis_the_jobs_run_in_process(app, monkeypatch, make_member):
    monkeypatch.setitem(app.config, "JOBS_MODE", "inline")
    assert app.config["REDIS_URL"] is None
    advisor = make_member(Role.advisor)
    grade_id = released_grade(app)
    fake = RosterLMS([RosterMember("roster-1", "Ana Costa", "ana@uni.example", Role.intern)])
    monkeypatch.setitem(app.extensions, EXTENSION, fake)

    with app.app_context():
        assert not jobs.uses_workers()
        jobs.enqueue("grading.deliver")
        jobs.enqueue("people.sync_rosters")
        jobs.enqueue("notify.deliver")
        jobs.enqueue("notify.reminders")

    assert delivery_of(app, grade_id)[:2] == ("synced", "200 OK")
    with app.app_context():
        joined = db.session.scalar(sa.select(Membership).join(User).where(
            User.lti_sub == "roster-1", Membership.course_id == advisor.course_id))
        assert joined is not None and joined.role is Role.intern
