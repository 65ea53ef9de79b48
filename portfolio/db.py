"""The declarative base, the naming convention that keeps migrations stable across
SQLite and PostgreSQL, and the typed column aliases every model uses."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Annotated

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase, mapped_column, registry

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


_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def upsert_insert(model, dialect_name: str):
    """``INSERT`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (SQLite, PostgreSQL)."""
    return _INSERTS[dialect_name](model)
