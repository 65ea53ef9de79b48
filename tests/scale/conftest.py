"""Real Redis, real Celery workers in their own processes, sharing the test database.

The shared Redis at 127.0.0.1:6379 is used on database 7 only (flushed before and after
each test); a test that stops Redis starts a private ``redis-server`` of its own.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from portfolio.db import db

SHARED_REDIS = "redis://127.0.0.1:6379/7"
WORKER = Path(__file__).with_name("worker.py")
ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Processes:
    """Celery workers and beats started by a test; each stopped at the end, by its own pid."""

    def __init__(self, app, tmp_path: Path):
        self.app, self.tmp, self.running = app, tmp_path, []

    def environment(self, redis_url: str, **extra) -> dict:
        config = self.app.config
        env = dict(os.environ, PORTFOLIO_DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
                   PORTFOLIO_INSTANCE_DIR=self.app.instance_path, PORTFOLIO_STORAGE_DIR=config["STORAGE_DIR"],
                   PORTFOLIO_SECRET_KEY=config["SECRET_KEY"], PORTFOLIO_BASE_URL=config["BASE_URL"],
                   PORTFOLIO_REDIS_URL=redis_url, PYTHONPATH=str(ROOT))
        env.pop("PORTFOLIO_SANDBOX", None)
        env.update({key: str(value) for key, value in extra.items()})
        return env

    def start(self, kind: str, redis_url: str, **extra) -> subprocess.Popen:
        n = len(self.running) + 1
        if kind == "worker":
            args = ["worker", "--pool=solo", "--loglevel=INFO", "--without-gossip", "--without-mingle",
                    "--without-heartbeat", "-n", f"test{n}@%h"]
        else:
            args = ["beat", "--loglevel=INFO", "--schedule", str(self.tmp / f"beat-{n}")]
        log = open(self.tmp / f"{kind}-{n}.log", "w")
        process = subprocess.Popen([sys.executable, str(WORKER), *args], cwd=ROOT, env=self.environment(redis_url, **extra),
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        process.log_path = log.name
        self.running.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL: what the out-of-memory killer or a lost machine does; nothing is cleaned up."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path}\n{Path(p.log_path).read_text()[-3000:]}" for p in self.running)


@pytest.fixture
def celery_processes(app, tmp_path, monkeypatch):
    # The workers open the same database as this process: for SQLite, the same file.
    processes = Processes(app, tmp_path)
    yield processes
    processes.stop_all()


@pytest.fixture
def shared_redis(app, monkeypatch):
    """The machine's Redis, database 7, flushed; jobs of this process go there."""
    client = redis.Redis.from_url(SHARED_REDIS)
    client.flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", SHARED_REDIS)
    yield SHARED_REDIS
    client.flushdb()


class PrivateRedis:
    """A redis-server of the test's own, which the test may stop and start again; its
    append-only file keeps what was enqueued across the restart, as in production."""

    def __init__(self, directory: Path, port: int):
        self.directory, self.port, self.process = directory, port, None
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes", "--dir", str(self.directory)],
            stdout=open(self.directory / "redis.log", "a"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(self.answers, 10, "the private Redis to start")

    def stop(self) -> None:
        self.process.terminate()  # a clean shutdown writes the append-only file out
        self.process.wait(timeout=10)
        self.process = None

    def answers(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return False


@pytest.fixture
def private_redis(app, tmp_path, monkeypatch):
    from tests.conftest import free_port

    directory = tmp_path / "redis"
    directory.mkdir()
    server = PrivateRedis(directory, free_port())
    server.start()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    yield server
    if server.process is not None:
        server.stop()


# --- what the workers work on ------------------------------------------------------------------


def released_grade(app) -> int:
    """A course with a one-criterion rubric, an intern, and their grade released: the
    outbox row waits for the LMS. Returns the grade id."""
    from portfolio.grading import operations
    from portfolio.grading.operations import LevelData
    from portfolio.people.models import Membership
    from tests.export import builders

    with app.app_context():
        course, intern, _supervisor, advisor = builders.course_with_people()
        by = db.session.scalar(sa.select(Membership).where(Membership.user_id == advisor.id,
                                                           Membership.course_id == course.id))
        criterion = operations.save_criterion(course, None, title="Conduct", description="",
                                              levels=[LevelData(title="Excellent", points=Decimal(10))], by=by)
        db.session.flush()
        grade = operations.save_grade(course, intern.id, levels={criterion.id: criterion.levels[0].id},
                                      comment="A remarkable internship", by=by)
        operations.release_grade(grade, by)
        db.session.commit()
        return grade.id


def delivery_of(app, grade_id: int):
    from portfolio.grading.models import ScoreDelivery

    with app.app_context():
        row = db.session.scalar(sa.select(ScoreDelivery).where(ScoreDelivery.grade_id == grade_id))
        result = (row.state.value, row.receipt, row.attempts)
        db.session.remove()
        return result
