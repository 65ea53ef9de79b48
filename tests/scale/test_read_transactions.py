"""A transaction that only read ends with COMMIT, so that the statements every page runs
stay prepared on PostgreSQL (psycopg forgets them all at a ROLLBACK); anything that wrote,
failed or left an ORM change pending is still rolled back when the request ends."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role, User
from tests.signoff.test_postgres import pg_app  # noqa: F401  (a PostgreSQL app in every pass)


@pytest.fixture
def intern(make_member, make_objective, make_placement):
    member = make_member(Role.intern, name="Lena Vogel")
    make_objective(member.course_id, code="COM", title="Communicate")
    make_placement(member, start=date(2027, 3, 1), end=date(2027, 5, 28))
    return member


class Endings:
    """How the engine's transactions end: each COMMIT and ROLLBACK, as SQLAlchemy issues them."""

    def __init__(self, engine: sa.Engine):
        self.engine, self.seen = engine, []

    def __enter__(self):
        sa.event.listen(self.engine, "commit", self._commit)
        sa.event.listen(self.engine, "rollback", self._rollback)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "commit", self._commit)
        sa.event.remove(self.engine, "rollback", self._rollback)

    def _commit(self, connection):
        self.seen.append("commit")

    def _rollback(self, connection):
        self.seen.append("rollback")


@pytest.fixture
def engine(app) -> sa.Engine:
    with app.app_context():
        return db.engine


def _name(app, user_id: int) -> str:
    with app.app_context():
        return db.session.scalar(sa.select(User.name).where(User.id == user_id))


def test_a_page_that_only_reads_ends_with_commit(app, client, login, intern, engine):
    login(client, intern)
    with Endings(engine) as endings:
        assert client.get(f"/c/{intern.course_id}/journal").status_code == 200
    assert endings.seen == ["commit"]


def test_a_write_left_uncommitted_is_rolled_back(app, intern, engine):
    with Endings(engine) as endings, app.app_context():
        db.session.execute(sa.update(User).where(User.id == intern.user_id).values(name="Changed"))
    assert endings.seen == ["rollback"]
    assert _name(app, intern.user_id) == "Lena Vogel"


def test_a_flushed_orm_change_left_uncommitted_is_rolled_back(app, intern, engine):
    with Endings(engine) as endings, app.app_context():
        db.session.get(User, intern.user_id).name = "Changed"
        db.session.flush()
        db.session.scalar(sa.select(sa.func.count()).select_from(User))  # then only reads
    assert endings.seen == ["rollback"]
    assert _name(app, intern.user_id) == "Lena Vogel"


def test_a_pending_orm_change_is_neither_flushed_nor_committed(app, intern, engine):
    with Endings(engine) as endings, app.app_context():
        user = db.session.get(User, intern.user_id)
        db.session.autoflush = False
        user.name = "Changed"
    assert endings.seen == ["rollback"]
    assert _name(app, intern.user_id) == "Lena Vogel"


def test_reads_ended_by_an_exception_are_rolled_back(app, intern, engine):
    with Endings(engine) as endings, pytest.raises(RuntimeError), app.app_context():
        db.session.get(User, intern.user_id)
        raise RuntimeError("the view failed")
    assert endings.seen == ["rollback"]


def test_a_failed_statement_is_rolled_back(app, intern, engine):
    with Endings(engine) as endings, app.app_context():
        with pytest.raises(sa.exc.DBAPIError):
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
    assert endings.seen == ["rollback"]


def test_reads_keep_their_statements_prepared_on_postgresql(pg_app):
    """psycopg prepares a statement on its fifth use and forgets every prepared statement
    of the connection at a ROLLBACK: with reads ending in COMMIT, a statement each request
    runs stays prepared. On a PostgreSQL database of its own in both passes of the suite."""
    with pg_app.app_context():
        db.engine.dispose()  # one fresh connection serves the requests below, one at a time
    statement = sa.select(User.id, User.name).where(User.id == sa.bindparam("user_id"))
    for _ in range(8):
        with pg_app.test_request_context():  # a request that only reads, ended by its teardown
            db.session.execute(statement, {"user_id": 1}).all()
    with pg_app.app_context():
        engine = db.engine
        assert engine.pool.checkedout() == 0 and engine.pool.checkedin() == 1
        with engine.connect() as connection:
            prepared = connection.execute(sa.text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    assert any('"user".name' in text and 'FROM "user"' in text for text in prepared), prepared
