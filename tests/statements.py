"""Counting what a request asks the database."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa


@contextlib.contextmanager
def statements_run(app):
    """Every SQL statement the app's engine runs inside the block, in order."""
    from portfolio.db import db

    seen: list[str] = []
    with app.app_context():
        engine = db.engine

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
