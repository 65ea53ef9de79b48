"""Background work on real Celery workers and a real Redis: the work gets done by another
process, survives the worker being killed halfway, and survives Redis going away.

Each worker is ``celery worker`` in its own process (tests/scale/worker.py: the LMS there
accepts every score), on the test's own database.
"""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa

from portfolio.db import db
from portfolio.export.models import Export, ExportJob, JobState
from tests.scale.conftest import delivery_of, released_grade, wait_for


def _ask_for_export(app) -> int:
    """An intern's four-week portfolio, and its export asked for as the views do."""
    from portfolio.export import operations
    from portfolio.export.models import Scope
    from portfolio.people.models import Membership, User
    from tests.export import builders

    with app.app_context():
        built = builders.standard_portfolio(grade=False)
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == built.intern_id,
                                                                   Membership.course_id == built.course_id))
        job = operations.request_export(membership, db.session.get(User, built.intern_id), Scope.everything)
        db.session.commit()
        assert job.state is JobState.queued
        operations.start(job)
        return job.id


def _job(app, job_id: int) -> tuple[JobState, int | None]:
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        result = (job.state, job.export_id)
        db.session.remove()
        return result


def _kick_grades(app) -> float:
    """What a view does after releasing a grade; returns how long it took."""
    from portfolio.grading import passback

    started = time.monotonic()
    with app.app_context():
        passback.kick()
    return time.monotonic() - started


def test_a_worker_process_renders_an_export_and_sends_a_grade(app, shared_redis, celery_processes):
    grade_id = released_grade(app)
    job_id = _ask_for_export(app)
    _kick_grades(app)
    # Nothing ran here: both wait in Redis for a worker.
    assert _job(app, job_id)[0] is JobState.queued
    assert delivery_of(app, grade_id)[0] == "pending"

    worker = celery_processes.start("worker", shared_redis)
    try:
        wait_for(lambda: _job(app, job_id)[0] is JobState.done, 60, "the export")
        wait_for(lambda: delivery_of(app, grade_id)[0] == "synced", 30, "the grade")
    except AssertionError:
        raise AssertionError(celery_processes.logs()) from None
    state, receipt, attempts = delivery_of(app, grade_id)
    assert receipt == f"200 OK from pid {worker.pid}"  # sent by the worker, not by this process
    with app.app_context():
        export = db.session.get(Export, _job(app, job_id)[1])
        pdf = Path(app.config["STORAGE_DIR"], "export", export.file_name).read_bytes()
    assert pdf.startswith(b"%PDF-") and export.pages >= 1


def test_an_export_whose_worker_is_killed_halfway_is_finished_by_the_next_worker(
        app, shared_redis, celery_processes, tmp_path):
    started = tmp_path / "render-started"
    # Redis gives an unacknowledged task to another worker after 2 s (7200 s in production).
    first = celery_processes.start("worker", shared_redis, SCALE_RENDER_DELAY=60, SCALE_RENDER_STARTED=started,
                                   PORTFOLIO_JOBS_VISIBILITY_TIMEOUT=2)
    job_id = _ask_for_export(app)
    try:
        wait_for(started.exists, 60, "the first worker to start rendering")
    except AssertionError:
        raise AssertionError(celery_processes.logs()) from None
    assert _job(app, job_id)[0] is JobState.running

    celery_processes.kill(first)
    time.sleep(2.5)  # past the visibility timeout
    assert _job(app, job_id)[0] is JobState.running  # nobody is rendering it now

    celery_processes.start("worker", shared_redis, PORTFOLIO_JOBS_VISIBILITY_TIMEOUT=2)
    try:
        wait_for(lambda: _job(app, job_id)[0] is JobState.done, 60, "the second worker to finish the export")
    except AssertionError:
        raise AssertionError(celery_processes.logs()) from None
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Export)) == 1


def test_grades_are_not_lost_while_redis_is_down(app, private_redis, celery_processes):
    # A grade enqueued before Redis stops: the task is in Redis's append-only file.
    enqueued = released_grade(app)
    _kick_grades(app)
    private_redis.stop()

    # A grade released while Redis is down: the view's kick cannot enqueue; it says so in
    # the log and returns at once. The outbox row is all there is.
    stranded = released_grade(app)
    assert _kick_grades(app) < 2
    assert delivery_of(app, stranded)[0] == "pending"

    private_redis.start()
    celery_processes.start("worker", private_redis.url)
    try:
        wait_for(lambda: delivery_of(app, enqueued)[0] == "synced", 30, "the grade enqueued before the outage")
    except AssertionError:
        raise AssertionError(celery_processes.logs()) from None
    # The worker's run sent every due score, the stranded one too: show the sweep on its own.
    assert delivery_of(app, stranded)[0] == "synced"

    private_redis.stop()
    lost = released_grade(app)
    assert _kick_grades(app) < 2
    private_redis.start()
    time.sleep(1)
    assert delivery_of(app, lost)[0] == "pending"  # nothing enqueued it: Redis was down at the time
    celery_processes.start("beat", private_redis.url, PORTFOLIO_OUTBOX_SWEEP_SECONDS=1)
    try:
        wait_for(lambda: delivery_of(app, lost)[0] == "synced", 40, "the scheduler's sweep to send the grade")
    except AssertionError:
        raise AssertionError(celery_processes.logs()) from None
