"""Fixtures: one app per test session, served for real on loopback (platforms fetch our
key set and we fetch theirs over HTTP), a clean database for every test, and factory
fixtures that return callables."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from tests.platform import TestPlatform


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_database(url: str) -> None:
    """Start from nothing: tests build the schema with the migrations themselves."""
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("PORTFOLIO_TEST_DATABASE_URL")
    if url:
        reset_database(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portfolio.db'}"


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("instance")
    os.environ["PORTFOLIO_INSTANCE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def app(database_url, instance_dir):
    import flask_migrate

    from portfolio import create_app

    port = free_port()
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BASE_URL": f"http://127.0.0.1:{port}",
        "SERVER_NAME": f"127.0.0.1:{port}",
        "SANDBOX": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "STORAGE_DIR": str(instance_dir / "files"),
    })
    with app.app_context():
        flask_migrate.upgrade()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts with empty tables (the app and its live server share them)."""
    yield
    if "app" not in request.fixturenames:
        return
    from portfolio.db import db

    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_client(app):
    """Another browser: its own cookie jar."""
    return lambda: app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db_session(app):
    from portfolio.db import db

    with app.app_context():
        yield db.session
        db.session.remove()


@pytest.fixture
def lms(app):
    """A registered test platform with its own key, serving its key set on loopback."""
    platform = TestPlatform(app)
    yield platform
    platform.close()
