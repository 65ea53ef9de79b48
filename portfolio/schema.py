"""Whether the database is at the newest migration (production refuses to serve otherwise)."""

from __future__ import annotations

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask

from portfolio.db import db


def migration_heads() -> set[str]:
    from portfolio import ROOT

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return set(ScriptDirectory.from_config(config).get_heads())


def current_revisions(app: Flask) -> set[str]:
    with app.app_context(), db.engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def schema_is_current(app: Flask) -> bool:
    return current_revisions(app) == migration_heads()
