"""The database connection drops in the middle of a request (a failover, a restarted
PostgreSQL, a proxy that closes idle connections): the person gets a clean "try again"
page, nothing half-written stays behind, and trying again works.

On PostgreSQL the request's own server process is really terminated
(``pg_terminate_backend``) between two of its statements, and idle pooled connections are
killed between requests so that the check at checkout has to replace them (their socket
says the server closed them; one that rested long is pinged). On SQLite, which has no
server to lose, the same statement fails with the driver's OperationalError, and
``pool_pre_ping`` replaces a closed handle.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from portfolio.db import db
from portfolio.journal.models import Entry, Task
from portfolio.people.models import Role
from tests.journal.helpers import task_fields, token_for

WEEK = "2027-03-01"


@pytest.fixture
def intern(make_member, make_objective, make_placement):
    member = make_member(Role.intern, name="Lena Vogel")
    objective = make_objective(member.course_id, code="COM", title="Communicate")
    make_placement(member, start=date(2027, 3, 1), end=date(2027, 5, 28))
    return member, objective


def _terminate(url: str, pid: int) -> None:
    """Kill one PostgreSQL server process from outside, and wait until it is gone."""
    killer = sa.create_engine(url, poolclass=NullPool)
    with killer.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        for _ in range(200):
            if not connection.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                                      {"pid": pid}).scalar():
                break
            time.sleep(0.01)
    killer.dispose()


@contextlib.contextmanager
def connection_lost_after_first_write(app):
    """The connection dies just after the request's first INSERT reached the database."""
    engine = db.engine
    state = {"inserted": False, "dropped": False}

    def before(conn, cursor, statement, parameters, context, executemany):
        if state["dropped"]:
            return
        if state["inserted"]:
            state["dropped"] = True
            if engine.dialect.name == "postgresql":
                _terminate(app.config["SQLALCHEMY_DATABASE_URI"], conn.connection.dbapi_connection.info.backend_pid)
            else:
                raise sqlite3.OperationalError("disk I/O error")
        elif statement.lstrip().upper().startswith("INSERT"):
            state["inserted"] = True

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield state
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def _week_form(client, member, objective) -> dict:
    return {"csrf_token": token_for(client, member.course_id), "action": "save",
            "reflection": "Ran the supplier workshop on my own.",
            **task_fields(("Prepared the supplier workshop", "6", [objective]))}


def _saved(app, member) -> tuple[int, int]:
    with app.app_context():
        entries = db.session.scalar(sa.select(sa.func.count()).select_from(Entry)
                                    .where(Entry.intern_id == member.user_id))
        tasks = db.session.scalar(sa.select(sa.func.count()).select_from(Task).join(Entry)
                                  .where(Entry.intern_id == member.user_id))
        return entries, tasks


def test_a_connection_lost_mid_request_gives_a_clean_page_and_the_retry_saves_once(app, client, login, intern):
    member, objective = intern
    login(client, member)
    form = _week_form(client, member, objective)

    with app.app_context(), connection_lost_after_first_write(app) as drop:
        response = client.post(f"/c/{member.course_id}/journal/weeks/{WEEK}", data=form)
    assert drop["dropped"], "the request never wrote anything, so no connection was dropped"

    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "Temporarily unavailable" in page and "Please try again in a moment" in page
    assert response.headers["X-Request-Id"] in page  # the reference that finds the log line
    assert "Traceback" not in page and "OperationalError" not in page and "psycopg" not in page
    assert _saved(app, member) == (0, 0), "a half-written week stayed behind"

    retry = client.post(f"/c/{member.course_id}/journal/weeks/{WEEK}", data=form, follow_redirects=True)
    assert retry.status_code == 200
    assert "Your draft is saved." in retry.get_data(as_text=True)
    assert _saved(app, member) == (1, 1)


def test_pooled_connections_that_died_while_idle_are_replaced_unseen(app, client, login, intern):
    member, _ = intern
    login(client, member)
    assert client.get(f"/c/{member.course_id}/journal").status_code == 200

    with app.app_context():
        engine = db.engine
        idle = [record.dbapi_connection for record in list(engine.pool._pool.queue)]
        assert idle, "the pool held no idle connection to kill"
        for dbapi_connection in idle:
            if engine.dialect.name == "postgresql":  # killed on the server, unknown to the pool
                _terminate(app.config["SQLALCHEMY_DATABASE_URI"], dbapi_connection.info.backend_pid)
            else:  # SQLite's equivalent of a vanished server: the handle is closed under the pool
                dbapi_connection.close()

    for _ in range(3):
        response = client.get(f"/c/{member.course_id}/journal")
        assert response.status_code == 200
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok"}


def test_a_connection_is_pinged_only_after_a_long_rest(app, client, login, intern, monkeypatch):
    """On PostgreSQL a request on a connection used a moment ago costs no ping; one that
    rested past ``PING_AFTER_IDLE`` gets one. SQLite pings every checkout (pool_pre_ping),
    where a ping is a function call."""
    from portfolio.db import PING_AFTER_IDLE

    member, _ = intern
    login(client, member)
    assert client.get(f"/c/{member.course_id}/journal").status_code == 200
    with app.app_context():
        engine = db.engine
    pings = []
    real_ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(1) or real_ping(connection))
    assert client.get(f"/c/{member.course_id}/journal").status_code == 200
    if engine.dialect.name != "postgresql":
        assert engine.pool._pre_ping and pings
        return
    assert not engine.pool._pre_ping and pings == []
    for record in list(engine.pool._pool.queue):
        record.info["checked_in_at"] -= PING_AFTER_IDLE + 1
    assert client.get(f"/c/{member.course_id}/journal").status_code == 200
    assert pings == [1]
