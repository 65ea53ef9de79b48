"""Background jobs: slow work (rendering PDFs) and deliveries to the outside (grades to the
LMS, mail) run outside the request that asked for them.

A job is a registered function called with keyword arguments that are plain values (ids,
strings). Each run gets its own application context, hence its own database session, and
commits its own work. Every job may run twice (a worker dies after the work and before
saying so): each one checks the state it starts from, and deliveries go through an outbox
row claimed by one worker at a time, so a repeat is harmless.

Where jobs run:

- ``PORTFOLIO_REDIS_URL`` set: Celery, with Redis as broker and result store. Any number
  of workers (``celery -A portfolio.jobs:celery worker``) on any number of machines, and
  one scheduler (``celery -A portfolio.jobs:celery beat``) for the periodic work. A task
  is acknowledged only once it finished (``acks_late``), and put back when its worker
  process dies (``reject_on_worker_lost``); Redis hands a task nobody acknowledged to
  another worker once ``JOBS_VISIBILITY_TIMEOUT`` seconds have passed.
- Otherwise in process, so that the embedded default needs no other server:
  ``JOBS_MODE`` ``thread`` (default) runs jobs in a small pool (``JOBS_WORKERS``);
  ``inline`` runs them at once in the caller's thread (tests, command line).

If Redis cannot take a job, nothing is lost: the outbox rows stay due, and the scheduler's
sweep (every ``OUTBOX_SWEEP_SECONDS``) sends them once Redis is back.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Callable, Iterable, Iterator

from celery import Celery, signals
from celery.schedules import crontab
from flask import Flask, after_this_request, current_app, g, has_app_context, has_request_context
from werkzeug.wsgi import FileWrapper

log = logging.getLogger(__name__)

# How far apart two machines' clocks may be, or one clock after it stepped back: an outbox
# row written "due now" by an app server is due for every worker, whatever its clock says.
# Sending a retry a few seconds early is harmless; leaving a fresh row to the next sweep is not.
CLOCK_SKEW = timedelta(seconds=5)

_registry: dict[str, Callable[..., None]] = {}


def register(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Make a function runnable as ``enqueue(name, ...)``."""

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        _registry[name] = function
        return function

    return decorate


def enqueue(name: str, **kwargs) -> Future | None:
    """Run the job ``name`` in the background: on a Celery worker when Redis is configured,
    else in this process (or now, in inline mode). Never raises because Redis is away."""
    if name not in _registry:
        raise KeyError(f"no job named {name!r}")
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        try:
            # No result to wait for: the database records how the job went.
            _sender(app).send_task(TASK, args=(name,), kwargs=kwargs, ignore_result=True)
        except Exception:  # the broker is down: the outbox sweep or the person asking again will do it
            log.exception("could not hand job %s to Redis; it runs when the scheduler's sweep finds it", name)
        return None
    if app.config.get("JOBS_MODE", "thread") == "inline":
        _run(app, name, kwargs)
        return None
    return _pool(app).submit(_run, app, name, kwargs)


def deliver_after_response(name: str, run: Callable[[], object], *, setting: str) -> None:
    """Send what an outbox holds as soon as possible: a worker's job ``name`` when there are
    workers (if Redis is down, the scheduler's sweep finds the rows later), else ``run`` once
    this response has gone out, at most once per request. ``setting`` = "off" leaves it to
    the command line and the schedule."""
    if current_app.config.get(setting, "after_response") != "after_response":
        return
    if uses_workers():
        enqueue(name)
        return
    app = current_app._get_current_object()
    if not has_request_context():
        _run_in_app_context(app, name, run)
        return
    kicked = g.setdefault("outboxes_kicked", set())
    if name in kicked:
        return
    kicked.add(name)

    @after_this_request
    def run_after_response(response):
        response.call_on_close(lambda: _run_in_app_context(app, name, run))
        return response


class _ClosedOnceSent:
    """A response body that closes itself, once, as soon as the server has taken all of it."""

    __slots__ = ("_body", "_closed")

    def __init__(self, body: Iterable[bytes]):
        self._body, self._closed = body, False

    def __iter__(self) -> Iterator[bytes]:
        yield from self._body
        self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            close = getattr(self._body, "close", None)
            if close is not None:
                close()


def close_once_sent(wsgi_app: Callable) -> Callable:
    """WSGI middleware: what runs when a response closes (``deliver_after_response``) runs
    once its body has been sent, even if the server never calls ``close()``. werkzeug's
    development server (``make run``) skips it when the browser resets the connection as it
    finishes reading, which a browser does, and a released grade or an invitation then
    waited in its outbox for the next one. Files go through untouched, so a server's
    ``wsgi.file_wrapper`` still sends them its own way."""

    def app(environ, start_response):
        body = wsgi_app(environ, start_response)
        wrapper = environ.get("wsgi.file_wrapper")
        if isinstance(body, FileWrapper) or (isinstance(wrapper, type) and isinstance(body, wrapper)):
            return body
        return _ClosedOnceSent(body)

    return app


def _run_in_app_context(app: Flask, name: str, run: Callable[[], object]) -> None:
    try:
        with app.app_context():
            run()
    except Exception:  # never the request's problem: the rows stay in their outbox
        log.exception("%s after the response failed", name)


def uses_workers(app: Flask | None = None) -> bool:
    """Whether jobs go to Celery workers (Redis configured) rather than run in this process."""
    return bool((app or current_app).config.get("REDIS_URL"))


def _pool(app: Flask) -> ThreadPoolExecutor:
    pool = app.extensions.get("jobs")
    if pool is None:
        pool = app.extensions.setdefault(
            "jobs", ThreadPoolExecutor(max_workers=int(app.config.get("JOBS_WORKERS", 2)),
                                       thread_name_prefix="portfolio-job"))
    return pool


def _run(app: Flask, name: str, kwargs: dict) -> None:
    # A fresh app context: its own session, removed on teardown whatever happens.
    with app.app_context():
        try:
            _registry[name](**kwargs)
        except Exception:
            # The job records its own failure where people can see it; this is the last resort.
            log.exception("job %s failed", name)
            from portfolio.db import db

            db.session.rollback()


# --- Celery ------------------------------------------------------------------------------------

TASK = "portfolio.run_job"


def celery_settings(config: dict) -> dict:
    """Celery's configuration from the app's: one place, for the senders and the workers."""
    url = config.get("REDIS_URL")
    return dict(
        broker_url=url,
        result_backend=url,
        result_expires=timedelta(days=1),
        task_ignore_result=True,  # the database says how a job went; results only for those who ask
        task_serializer="json",
        accept_content=["json"],
        # A task is acknowledged when it is done, not when it starts: a worker that dies
        # halfway leaves it to another worker.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds only the task it is running
        # Redis gives an unacknowledged task to another worker after this long: longer
        # than the longest job (a cohort's PDFs), or a slow job would run twice at once.
        broker_transport_options={"visibility_timeout": int(config.get("JOBS_VISIBILITY_TIMEOUT", 7200))},
        result_backend_transport_options={"visibility_timeout": int(config.get("JOBS_VISIBILITY_TIMEOUT", 7200))},
        # A request that enqueues while Redis is down waits a second at most, then the
        # outbox takes over.
        broker_connection_timeout=2,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0, "interval_step": 0.2,
                                   "interval_max": 0.5},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule=beat_schedule(config),
    )


def beat_schedule(config: dict) -> dict:
    """The periodic work: outbox sweeps every minute, the dashboard's figures every ten
    minutes, reminders hourly, rosters and retention daily."""
    sweep = float(config.get("OUTBOX_SWEEP_SECONDS", 60))
    return {
        "grades: send due scores": {"task": TASK, "schedule": sweep, "args": ("grading.deliver",),
                                    "options": {"expires": sweep}},
        "mail: send due messages": {"task": TASK, "schedule": sweep, "args": ("notify.deliver",),
                                    "options": {"expires": sweep}},
        "cohort: keep every intern's figures current": {
            "task": TASK, "schedule": crontab(minute="*/10"), "args": ("cohort.refresh",),
            "options": {"expires": 600}},
        "mail: reminders and digests": {"task": TASK, "schedule": crontab(minute=5), "args": ("notify.reminders",)},
        "rosters: sync from the LMS": {"task": TASK, "schedule": crontab(minute=30, hour=3),
                                       "args": ("people.sync_rosters",)},
        "privacy: archive, then delete, courses past their retention": {
            "task": TASK, "schedule": crontab(minute=0, hour=4), "args": ("privacy.retention",)},
    }


def _sender(app: Flask) -> Celery:
    """A Celery app that only sends, configured from this Flask app (tests change REDIS_URL)."""
    key = ("jobs.celery", app.config["REDIS_URL"])
    sender = app.extensions.get(key)
    if sender is None:
        sender = Celery("portfolio", set_as_current=False)
        sender.conf.update(celery_settings(app.config))
        sender = app.extensions.setdefault(key, sender)
    return sender


_worker_app: Flask | None = None


def bind(app: Flask) -> None:
    """Use this Flask app for the tasks this process runs (else one is built from the environment)."""
    global _worker_app
    _worker_app = app
    celery.conf.update(celery_settings(app.config))


def _flask_app() -> Flask:
    global _worker_app
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from portfolio import create_app

        _worker_app = create_app()
    return _worker_app


def _make_celery() -> Celery:
    """The worker's and the scheduler's Celery app, configured from the environment as the
    web app is (``PORTFOLIO_REDIS_URL``, ``PORTFOLIO_JOBS_VISIBILITY_TIMEOUT`` …)."""
    from portfolio import config as config_module

    app = Celery("portfolio", set_as_current=False)
    app.conf.update(celery_settings(config_module.jobs_settings(os.environ)))
    return app


celery = _make_celery()


@signals.worker_process_init.connect
def _build_app_before_the_first_task(**_kwargs) -> None:
    # Each pool process builds its app (and its own database pool) once, at start, rather
    # than making the first task it gets wait for it.
    _flask_app()


@celery.task(name=TASK)
def run_job(name: str, **kwargs) -> None:
    """Run a registered job on a worker. An exception propagates, so Celery logs it; the job
    itself has recorded what people need to know."""
    app = _flask_app()  # building it imports the features, which register their jobs
    with app.app_context():
        from portfolio.db import db

        try:
            _prepare(name, kwargs)
            _registry[name](**kwargs)
        except Exception:
            db.session.rollback()
            raise


def _prepare(name: str, kwargs: dict) -> None:
    """An export whose worker died was left ``running``; the task that comes back for it
    (re-delivered by Redis) starts it again from ``queued``."""
    if name == "export.run":
        import sqlalchemy as sa

        from portfolio.db import db
        from portfolio.export.models import ExportJob, JobState

        db.session.execute(sa.update(ExportJob).where(ExportJob.id == kwargs["job_id"],
                                                      ExportJob.state == JobState.running)
                           .values(state=JobState.queued, progress=0))
        db.session.commit()


# --- the jobs that are not features' own ------------------------------------------------------


@register("grading.deliver")
def deliver_grades() -> None:
    from portfolio.grading.passback import deliver_due

    deliver_due()


@register("notify.deliver")
def deliver_mail() -> None:
    from portfolio.notify.delivery import deliver_due

    deliver_due()


@register("notify.reminders")
def queue_reminders() -> None:
    from portfolio.db import db
    from portfolio.notify.delivery import deliver_due
    from portfolio.notify.schedule import send_digests, send_reminders

    app = current_app
    # Links in mails are absolute; outside a request they are built against the public URL.
    with app.test_request_context(base_url=app.config["BASE_URL"] or "http://127.0.0.1:5000"):
        send_reminders()
        send_digests()
        db.session.commit()
    deliver_due()


@register("cohort.refresh")
def refresh_cohorts() -> None:
    """Compute the dashboard's figures of every intern whose journal changed or whose week
    turned since they were last computed, so that no advisor waits for a whole cohort."""
    from portfolio.cohort import summary
    from portfolio.db import db

    summary.refresh_all(commit=db.session.commit)


@register("people.sync_rosters")
def sync_rosters() -> None:
    import sqlalchemy as sa

    from portfolio import lms
    from portfolio.db import db
    from portfolio.lms import DeliveryDeferred, DeliveryRefused
    from portfolio.people.models import Course
    from portfolio.people.operations import sync_roster

    connection = lms.current()
    for course_id in db.session.scalars(sa.select(Course.id).order_by(Course.id)).all():
        course = db.session.get(Course, course_id)
        if not connection.roster_supported(course):
            continue
        try:
            members = connection.fetch_roster(course)
        except (DeliveryDeferred, DeliveryRefused) as refusal:
            db.session.rollback()
            log.warning("roster of course %s not synced: %s", course_id, refusal.message)
            continue
        sync_roster(course, members, by=None, via="schedule")
        db.session.commit()


@register("privacy.retention")
def apply_retention() -> None:
    from portfolio.db import db
    from portfolio.privacy.operations import run_retention

    # Each course is archived and committed before its data goes; a failed archive deletes nothing.
    for plan, outcome in run_retention(via="schedule", commit=db.session.commit):
        log.info("retention: course %s -> %s", getattr(plan, "course_id", plan), outcome)
