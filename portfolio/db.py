"""The declarative base, the naming convention that keeps migrations stable across
SQLite and PostgreSQL, and the typed column aliases every model uses."""

from __future__ import annotations

import enum
import logging
from datetime import datetime, timezone
from typing import Annotated

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, registry

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def enum_column(enum_cls: type[enum.Enum], length: int = 32) -> sa.Enum:
    """Enums stored by their value, as a plain string column (no native type to migrate)."""
    return sa.Enum(
        enum_cls,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        create_constraint=False,
        length=length,
        validate_strings=True,
    )


intpk = Annotated[int, mapped_column(primary_key=True)]
str255 = Annotated[str, mapped_column(sa.String(255))]
timestamp = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]


class Base(DeclarativeBase):
    registry = registry(
        metadata=sa.MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)


def enable_sqlite_wal(dbapi_connection, connection_record) -> None:
    """WAL lets readers go on while one writer writes; foreign keys are off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def commit_keeping_loaded() -> None:
    """Commit, leaving the objects the session has loaded as they were read instead of
    reading each again on its next use: for a view that wrote only rows it holds no object
    of (the dashboard keeping the figures it computed), whose person, membership and course
    would otherwise cost three more statements."""
    session = db.session()
    expiring, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expiring


def begin_before_savepoint(connection: sa.Connection, name) -> None:
    """SQLite: a SAVEPOINT taken outside a transaction starts one, and releasing it then
    COMMITs everything since. Python's sqlite3 begins a transaction only before a write, so
    a ``begin_nested`` opened after nothing but reads (a check, then an insert that may
    collide) would commit the insert at once, and a failure later in the same request
    could no longer undo it. A transaction is begun first, as the write would have."""
    dbapi_connection = connection.connection.dbapi_connection
    if not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


PING_AFTER_IDLE = 10.0  # seconds a pooled PostgreSQL connection may rest before a real ping


def check_connections_at_checkout(engine: sa.Engine) -> None:
    """``pool_pre_ping`` without its round trip on every request (PostgreSQL): a pooled
    connection whose server end closed while it rested (a terminated backend, a restarted
    server, a proxy closing idle connections) has a readable socket, which checkout sees
    at no cost; one that rested longer than ``PING_AFTER_IDLE``, long enough for a silent
    drop, is pinged as pre-ping would. Either way a dead one is replaced before the
    request sees it (the pool retries on ``DisconnectionError``)."""
    import select
    import time

    @sa.event.listens_for(engine, "connect")
    @sa.event.listens_for(engine, "checkin")
    def _rested_since(dbapi_connection, record) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @sa.event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, record, proxy) -> None:
        try:
            closed = dbapi_connection.closed or bool(select.select([dbapi_connection.fileno()], [], [], 0)[0])
        except (OSError, ValueError):
            closed = True
        if closed:
            raise sa.exc.DisconnectionError("the server closed this pooled connection")
        if time.monotonic() - record.info.get("checked_in_at", 0.0) > PING_AFTER_IDLE:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except engine.dialect.loaded_dbapi.Error as error:
                raise sa.exc.DisconnectionError("a pooled connection did not answer its ping") from error


_WROTE = "portfolio.wrote"  # Connection.info: this transaction ran something other than a SELECT
_CONNECTION = "portfolio.connection"  # Session.info: the connection of the session's transaction


def end_reads_with_commit(app, engine: sa.Engine) -> None:
    """A request (or job) whose transaction only read ends it with COMMIT, not ROLLBACK.

    The two are the same to the database for a transaction of plain SELECTs, but not to
    psycopg: a ROLLBACK throws away every server-side prepared statement of the connection
    (a rollback may have undone the DDL they depend on), so each page would plan its
    statements again, and PostgreSQL's planning costs more than running them. After a
    COMMIT the statements a page runs on every request stay prepared on each pooled
    connection (psycopg prepares a statement on its fifth use).

    Only a transaction that ran nothing but SELECTs (by SQLAlchemy's compiled flags and by
    the statement's first word), with no ORM change pending, no error, and no exception
    ending the context, is committed; everything else is rolled back on teardown, as
    before."""

    @sa.event.listens_for(engine, "begin")
    def _began(connection) -> None:
        connection.info.pop(_WROTE, None)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _statement(connection, cursor, statement, parameters, context, executemany) -> None:
        if executemany or statement[:32].lstrip()[:6].upper() != "SELECT" or (  # the first word: no copy of it all
                context is not None and (context.isinsert or context.isupdate or context.isdelete)):
            connection.info[_WROTE] = True

    @sa.event.listens_for(engine, "handle_error")
    def _failed(context) -> None:
        if context.connection is not None:
            context.connection.info[_WROTE] = True

    @app.teardown_appcontext  # runs before Flask-SQLAlchemy's, which removes the session
    def _commit_reads(exc: BaseException | None) -> None:
        if not db.session.registry.has():
            return
        session = db.session()
        connection = session.info.pop(_CONNECTION, None)
        if (exc is not None or connection is None or not session.in_transaction() or connection.closed
                or connection.info.get(_WROTE) or session.new or session.dirty or session.deleted):
            return
        session.expire_on_commit = False  # the session is removed next: what was loaded stays as it was read
        try:
            session.commit()
        except Exception:  # the session's removal, next, rolls back what is left
            log.warning("a transaction that only read did not commit", exc_info=True)


@sa.event.listens_for(Session, "after_begin")
def _connection_of(session: Session, transaction, connection: sa.Connection) -> None:
    session.info[_CONNECTION] = connection


_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert_insert(model, dialect_name: str):
    """``INSERT`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (SQLite, PostgreSQL)."""
    return _INSERTS[dialect_name](model)
