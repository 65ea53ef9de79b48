"""The migrations: one head, up and down and up again, and no drift from the models,
on SQLite and (when the suite runs there) on PostgreSQL."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from portfolio import create_app
from portfolio.db import db
from portfolio.schema import migration_heads


def scratch_database(tmp_path) -> str:
    url = os.environ.get("PORTFOLIO_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path}/migrations.db"
    # A database of its own, so going down to nothing leaves the suite's tables alone.
    server = sa.engine.make_url(url)
    engine = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text("DROP DATABASE IF EXISTS portfolio_migrations"))
        connection.execute(sa.text("CREATE DATABASE portfolio_migrations"))
    engine.dispose()
    return server.set(database="portfolio_migrations").render_as_string(hide_password=False)


def test_one_head():
    assert len(migration_heads()) == 1


@pytest.fixture
def scratch_app(tmp_path):
    return create_app({"SQLALCHEMY_DATABASE_URI": scratch_database(tmp_path), "SECRET_KEY": "x" * 40})


def tables(app) -> set[str]:
    with app.app_context():
        return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_up_down_up_and_no_drift(scratch_app):
    import flask_migrate

    with scratch_app.app_context():
        flask_migrate.upgrade()
    assert tables(scratch_app) == set(db.metadata.tables)

    with scratch_app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        flask_migrate.downgrade(revision="base")
    assert tables(scratch_app) == set()

    with scratch_app.app_context():
        flask_migrate.upgrade()
    assert tables(scratch_app) == set(db.metadata.tables)
    with scratch_app.app_context():
        db.engine.dispose()
