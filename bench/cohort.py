"""A realistic cohort for the benchmarks, written straight into a migrated database.

One course with ``interns`` interns, each on a placement that began a year ago: every
week but the last few written (older ones approved, the three before them waiting for the
supervisor, one draft), three tasks a week against the course's objectives. One workplace
supervisor per five interns, a handful of advisors, a two-criterion rubric.

The rows go in by bulk INSERT with ids chosen here (then the sequences are moved past
them): a year of 2,000 interns is about a million rows, which the ORM one by one would
take an hour to write. The dashboard's figures are then computed once, as the scheduler
keeps them in a deployment (``cohort.refresh``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

WORDS = ("client workshop report meeting prototype supplier budget review planning analysis team presentation "
         "feedback customer schedule design testing survey market interview quality process documentation "
         "training colleague manager project deadline strategy data results learned improved prepared").split()

WEEKS = 52  # weeks of placement before the current one
FREE_WEEKS = 6  # the newest weeks of each placement, left unwritten for the load to write
WAITING = 3  # submitted weeks per intern, waiting for the supervisor
INTERNS_PER_SUPERVISOR = 5
OBJECTIVES = 8
TASKS_PER_WEEK = 3


@dataclass
class Cohort:
    course_id: int
    interns: list[int]  # user ids, in order
    supervisors: list[int]
    advisors: list[int]
    supervisor_of: dict[int, int]  # intern → supervisor
    objectives: list[int]
    free_weeks: list[date]  # Mondays every intern may still write
    criteria: dict[int, list[int]] = field(default_factory=dict)  # criterion id → level ids


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def current_monday(today: date | None = None) -> date:
    today = today or datetime.now(timezone.utc).date()
    return today - timedelta(days=today.weekday())


def build(app, interns: int = 2000, advisors: int = 10, seed: int = 7, log=print) -> Cohort:
    """Write the cohort into the app's (migrated, empty enough) database; returns its ids."""
    from lti.operations import register_platform
    from portfolio.db import db
    from portfolio.grading import operations as grading
    from portfolio.grading.operations import LevelData
    from portfolio.journal.models import Entry, EntryState, Task, task_objective
    from portfolio.objectives.models import Objective
    from portfolio.people.models import Course, Membership, Role, User
    from portfolio.placements.models import Placement
    from portfolio.signoff.models import Supervision

    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    monday = current_monday()
    start = monday - timedelta(weeks=WEEKS)
    end = monday + timedelta(weeks=FREE_WEEKS - 3, days=4)
    written = WEEKS - 2  # the last two past weeks and the current one are not written yet
    free_weeks = [start + timedelta(weeks=w) for w in range(written, written + FREE_WEEKS)]

    with app.app_context():
        tag = rng.randrange(10**9)
        platform, _ = register_platform(
            issuer=f"https://lms-{tag}.bench.example", client_id="tool",
            auth_login_url=f"https://lms-{tag}.bench.example/auth", auth_token_url=f"https://lms-{tag}.bench.example/token",
            key_set_url=f"https://lms-{tag}.bench.example/jwks", deployment_ids=["1"])
        course = Course(platform_id=platform.id, deployment_id=platform.deployments[0].id, context_id=f"bench-{tag}",
                        title=f"International internship ({interns} interns)", timezone="Europe/Berlin")
        db.session.add(course)
        db.session.flush()
        objective_rows = [Objective(course_id=course.id, code=f"LO{i + 1}", title=_sentence(rng, 4)[:-1],
                                    description=_sentence(rng, 20), target=6, position=i) for i in range(OBJECTIVES)]
        db.session.add_all(objective_rows)
        db.session.commit()
        course_id, objectives = course.id, [o.id for o in objective_rows]

        def next_id(model) -> int:
            return (db.session.scalar(sa.select(sa.func.max(model.id))) or 0) + 1

        # People.
        uid = next_id(User)
        n_supervisors = max(1, (interns + INTERNS_PER_SUPERVISOR - 1) // INTERNS_PER_SUPERVISOR)
        intern_ids = list(range(uid, uid + interns))
        supervisor_ids = list(range(intern_ids[-1] + 1, intern_ids[-1] + 1 + n_supervisors))
        advisor_ids = list(range(supervisor_ids[-1] + 1, supervisor_ids[-1] + 1 + advisors))
        users = []
        for i, user_id in enumerate(intern_ids):
            users.append(dict(id=user_id, platform_id=platform.id, lti_sub=f"intern-{tag}-{i}", name=f"Intern {i:05d}",
                              email=f"intern{i}.{tag}@bench.example", locale="en", timezone="Europe/Berlin"))
        for i, user_id in enumerate(supervisor_ids):  # invited by mail: no LMS account
            users.append(dict(id=user_id, platform_id=None, lti_sub=None, name=f"Supervisor {i:04d}",
                              email=f"supervisor{i}.{tag}@host.example", locale="en", timezone="Europe/Berlin"))
        for i, user_id in enumerate(advisor_ids):
            users.append(dict(id=user_id, platform_id=platform.id, lti_sub=f"advisor-{tag}-{i}", name=f"Advisor {i}",
                              email=f"advisor{i}.{tag}@uni.example", locale="en", timezone="Europe/Berlin"))
        db.session.execute(sa.insert(User), users)
        roles = ([(u, Role.intern) for u in intern_ids] + [(u, Role.supervisor) for u in supervisor_ids]
                 + [(u, Role.advisor) for u in advisor_ids])
        db.session.execute(sa.insert(Membership), [dict(user_id=u, course_id=course_id, role=r) for u, r in roles])
        supervisor_of = {intern: supervisor_ids[i // INTERNS_PER_SUPERVISOR] for i, intern in enumerate(intern_ids)}
        db.session.execute(sa.insert(Supervision), [
            dict(course_id=course_id, intern_id=intern, supervisor_id=supervisor, invited_by_id=intern,
                 source="invitation") for intern, supervisor in supervisor_of.items()])
        db.session.execute(sa.insert(Placement), [
            dict(course_id=course_id, intern_id=intern, host_organisation=f"Host {i % 300} GmbH", country="DE",
                 city="Berlin", start_date=start, end_date=end, hours_per_week=Decimal("38"),
                 timezone="Europe/Berlin", work_language="en") for i, intern in enumerate(intern_ids)])
        db.session.commit()
        log(f"  {len(users)} people, {interns} placements")

        # A year of journal, in slices so that memory stays flat.
        entry_id, task_id = next_id(Entry), next_id(Task)
        for first in range(0, interns, 200):
            entries, tasks, links = [], [], []
            for intern in intern_ids[first:first + 200]:
                for week in range(written):
                    week_start = start + timedelta(weeks=week)
                    if week < written - WAITING - 1:
                        state = EntryState.approved
                    elif week < written - 1:
                        state = EntryState.submitted
                    else:
                        state = EntryState.draft
                    at = datetime.combine(week_start + timedelta(days=4), datetime.min.time(), timezone.utc)
                    text = " ".join(_sentence(rng, rng.randint(10, 18)) for _ in range(6))
                    entries.append(dict(
                        id=entry_id, course_id=course_id, intern_id=intern, week_start=week_start, revision=1,
                        state=state, reflection=text, reflection_html=f"<p>{text}</p>",
                        submitted_at=at if state is not EntryState.draft else None,
                        submissions=0 if state is EntryState.draft else 1,
                        decided_at=at + timedelta(days=2) if state is EntryState.approved else None,
                        decided_by_id=supervisor_of[intern] if state is EntryState.approved else None,
                        created_at=at, updated_at=at))
                    for position in range(TASKS_PER_WEEK):
                        tasks.append(dict(id=task_id, entry_id=entry_id, position=position,
                                          description=_sentence(rng, 8), hours=Decimal(rng.choice(("4", "7.5", "12")))))
                        for objective in rng.sample(objectives, rng.choice((1, 1, 2))):
                            links.append(dict(task_id=task_id, objective_id=objective))
                        task_id += 1
                    entry_id += 1
            db.session.execute(sa.insert(Entry), entries)
            db.session.execute(sa.insert(Task), tasks)
            db.session.execute(sa.insert(task_objective), links)
            db.session.commit()
            log(f"  journal: {first + len(intern_ids[first:first + 200])}/{interns} interns")
        if db.engine.dialect.name == "postgresql":
            for table in ("user", "membership", "supervision", "placement", "entry", "task"):
                db.session.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"))
            db.session.commit()
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()

        # The rubric, through the operation (it audits, and computes the maximum).
        advisor = db.session.scalar(sa.select(Membership).where(Membership.user_id == advisor_ids[0],
                                                                Membership.course_id == course_id))
        course = db.session.get(Course, course_id)
        criteria = {}
        for title, levels in (("Reflection", (("Beginning", "0"), ("Developing", "2"), ("Accomplished", "4"))),
                              ("Evidence", (("Thin", "1"), ("Solid", "3.5"), ("Rich", "6")))):
            criterion = grading.save_criterion(course, None, title=title, description=f"About {title.lower()}",
                                               levels=[LevelData(title=t, points=Decimal(p)) for t, p in levels],
                                               by=advisor)
            db.session.flush()
            criteria[criterion.id] = [level.id for level in criterion.levels]
        db.session.commit()
        # What the scheduler does every ten minutes in a deployment: the dashboard's figures.
        from portfolio.jobs import refresh_cohorts

        refresh_cohorts()
        if db.engine.dialect.name == "postgresql":
            # A year of journal is not freshly written: what autovacuum and the checkpointer
            # would have done by now (statistics, visibility, the build's WAL on disk) is
            # done before any clock starts, not during the measurement.
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(sa.text("VACUUM (ANALYZE)"))
                try:
                    connection.execute(sa.text("CHECKPOINT"))
                except sa.exc.DBAPIError:  # only a superuser may; the server checkpoints on its own
                    pass
        return Cohort(course_id=course_id, interns=intern_ids, supervisors=supervisor_ids, advisors=advisor_ids,
                      supervisor_of=supervisor_of, objectives=objectives, free_weeks=free_weeks, criteria=criteria)


USER_AGENT = "portfolio-bench"  # every benchmark request says so: the session cookies are made for it


def session_cookie(app, user_id: int) -> str:
    """A signed session cookie for ``user_id``, as a launch leaves it in the browser: signed in
    by ``login_user`` for a client on loopback that says ``USER_AGENT``, so the session's
    identifier matches and the cookie stays as it is from request to request. The CSRF
    secret is already in it, so every form token stays valid for the whole run."""
    import secrets

    from flask import session
    from flask_login import login_user

    from portfolio.db import db
    from portfolio.people.models import User

    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"},
                                  headers={"User-Agent": USER_AGENT}):
        login_user(db.session.get(User, user_id))
        session["csrf_token"] = secrets.token_hex(20)
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
        db.session.remove()
    return f"{app.config['SESSION_COOKIE_NAME']}={value}"


def headers_for(cookie: str) -> dict:
    """What a benchmark's request for a signed-in person carries."""
    return {"Cookie": cookie, "User-Agent": USER_AGENT}


# --- a database and a server for a benchmark run ------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-key-long-enough-to-pass-the-production-checks"


def environment(database_url: str, instance_dir: str, port: int, redis_url: str | None = None) -> dict:
    """The environment the app servers (and this process's app) run with."""
    import os

    env = dict(os.environ, PORTFOLIO_DATABASE_URL=database_url, PORTFOLIO_INSTANCE_DIR=instance_dir,
               PORTFOLIO_SECRET_KEY=SECRET, PORTFOLIO_BASE_URL=f"http://127.0.0.1:{port}",
               PORTFOLIO_LOG_FORMAT="json")
    env.pop("PORTFOLIO_SANDBOX", None)
    if redis_url:
        env["PORTFOLIO_REDIS_URL"] = redis_url
    else:
        env.pop("PORTFOLIO_REDIS_URL", None)
    return env


def fresh_database(database_url: str) -> None:
    """Empty the database (PostgreSQL: its public schema; SQLite: the file)."""
    engine = sa.create_engine(database_url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    elif database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
    engine.dispose()


def migrated_app(env: dict):
    """The app in this process, configured as the servers are, with its schema migrated."""
    import os

    import flask_migrate

    os.environ.update({k: v for k, v in env.items() if k.startswith("PORTFOLIO_")})
    from portfolio import create_app

    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
    return app


class Gunicorn:
    """gunicorn on loopback with the project's configuration, stopped on exit."""

    def __init__(self, env: dict, port: int, workers: int, threads: int, wsgi: str = "bench.serve:app",
                 log_path: str | None = None):
        self.env, self.port, self.workers, self.threads, self.wsgi = env, port, workers, threads, wsgi
        self.log_path = log_path

    def __enter__(self):
        import os
        import subprocess
        import sys
        import time

        import requests

        self.log = open(self.log_path or "/dev/null", "w")
        env = dict(self.env, GUNICORN_BIND=f"127.0.0.1:{self.port}", GUNICORN_WORKERS=str(self.workers),
                   GUNICORN_THREADS=str(self.threads), PYTHONPATH=str(ROOT),
                   GUNICORN_ACCESS_LOG=os.environ.get("BENCH_ACCESS_LOG", "/dev/null"))  # the server's own times
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), self.wsgi],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}; see {self.log_path}")
            try:
                if requests.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).ok and self._all_warmed():
                    return self
            except requests.RequestException:  # not listening yet, or the worker still booting
                pass
            time.sleep(0.2)
        self.__exit__()
        raise SystemExit("gunicorn did not become ready within 60 s")

    def _all_warmed(self) -> bool:
        """Every worker has finished its warm-up (portfolio.warmup logs it), as a load
        balancer's health check would wait for: one ready worker is not a ready server."""
        if not self.log_path:
            return True
        self.log.flush()
        return Path(self.log_path).read_text(errors="replace").count("warmed:") >= self.workers

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
        self.log.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



class CeleryWorker:
    """One Celery worker (``celery -A portfolio.jobs:celery worker``) for the run's background work."""

    def __init__(self, env: dict, log_path: str | None = None):
        self.env, self.log_path = env, log_path

    def __enter__(self):
        import subprocess
        import sys

        self.log = open(self.log_path or "/dev/null", "w")
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "celery"), "-A", "portfolio.jobs:celery", "worker",
             "--concurrency=1", "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=dict(self.env, PYTHONPATH=str(ROOT)), stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()
        self.log.close()
