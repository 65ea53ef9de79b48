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
            if db.engine.dialect.name == "postgresql":  # the audit trail is append-only otherwise
                connection.execute(sa.text("SET LOCAL portfolio.audit_maintenance = 'on'"))
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


# --- Factories: callables with sensible defaults, returning ids (rows stay in the db) ---


class Member:
    """A person's membership, by ids: usable across app contexts and test clients."""

    def __init__(self, user_id: int, course_id: int, membership_id: int, role):
        self.user_id, self.course_id, self.membership_id, self.role = user_id, course_id, membership_id, role

    def __repr__(self):
        return f"Member(user={self.user_id}, course={self.course_id}, role={self.role.value})"


@pytest.fixture
def make_course(app):
    from lti.operations import register_platform
    from portfolio.db import db
    from portfolio.people.models import Course

    counter = iter(range(1, 10_000))

    def make(title: str = "Internship 2027", platform_id: int | None = None, timezone: str = "UTC") -> int:
        n = next(counter)
        with app.app_context():
            if platform_id is None:
                platform, _ = register_platform(
                    issuer=f"https://lms{n}.example", client_id="tool", auth_login_url=f"https://lms{n}.example/auth",
                    auth_token_url=f"https://lms{n}.example/token", key_set_url=f"https://lms{n}.example/jwks",
                    deployment_ids=["1"])
            else:
                from lti.models import Platform

                platform = db.session.get(Platform, platform_id)
            course = Course(platform_id=platform.id, deployment_id=platform.deployments[0].id,
                            context_id=f"context-{n}", title=title, timezone=timezone)
            db.session.add(course)
            db.session.commit()
            return course.id

    return make


@pytest.fixture
def make_member(app, make_course):
    from portfolio.db import db
    from portfolio.people.models import Course, Membership, Role, User

    counter = iter(range(1, 10_000))

    def make(role: Role = Role.intern, course_id: int | None = None, name: str | None = None,
             email: str | None = None, timezone: str | None = None, locale: str | None = "en") -> Member:
        n = next(counter)
        if course_id is None:
            course_id = make_course()
        with app.app_context():
            course = db.session.get(Course, course_id)
            user = User(platform_id=course.platform_id, lti_sub=f"sub-{n}", name=name or f"{role.value.title()} {n}",
                        email=email or f"{role.value}{n}@example.test", timezone=timezone, locale=locale)
            membership = Membership(user=user, course=course, role=role)
            db.session.add_all([user, membership])
            db.session.commit()
            return Member(user.id, course_id, membership.id, role)

    return make


@pytest.fixture
def login(app):
    """Sign a test client in as a member (the LTI launch itself is tested in tests/lti)."""

    def sign_in(client, member: Member):
        with client.session_transaction() as session:
            session["_user_id"] = str(member.user_id)
            session["_fresh"] = True
        return client

    return sign_in


@pytest.fixture
def make_objective(app):
    from portfolio.db import db
    from portfolio.objectives.models import Objective

    counter = iter(range(1, 10_000))

    def make(course_id: int, code: str | None = None, title: str | None = None, target: int = 3,
             area: str | None = None, retired: bool = False) -> int:
        n = next(counter)
        with app.app_context():
            from portfolio.db import utcnow

            objective = Objective(course_id=course_id, code=code or f"LO{n}", title=title or f"Objective {n}",
                                  description="", target=target, area=area, position=n,
                                  retired_at=utcnow() if retired else None)
            db.session.add(objective)
            db.session.commit()
            return objective.id

    return make


@pytest.fixture
def make_placement(app):
    from datetime import date
    from decimal import Decimal

    from portfolio.db import db
    from portfolio.placements.models import Placement

    def make(member: Member, start: date = date(2027, 3, 1), end: date = date(2027, 6, 25),
             timezone: str = "Europe/Berlin", hours_per_week: str = "38", country: str = "DE",
             host: str = "Example GmbH") -> int:
        with app.app_context():
            placement = Placement(course_id=member.course_id, intern_id=member.user_id, host_organisation=host,
                                  country=country, city="Berlin", start_date=start, end_date=end,
                                  hours_per_week=Decimal(hours_per_week), timezone=timezone, work_language="en")
            db.session.add(placement)
            db.session.commit()
            return placement.id

    return make


@pytest.fixture
def make_entry(app):
    from datetime import date
    from decimal import Decimal

    from portfolio.db import db, utcnow
    from portfolio.journal.models import Entry, EntryState, Task
    from portfolio.objectives.models import Objective
    from portfolio.text import render_markdown

    def make(member: Member, week_start: date = date(2027, 3, 1), state: EntryState = EntryState.draft,
             reflection: str = "What I learned this week.", tasks: list[tuple[str, str, list[int]]] | None = None,
             revision: int = 1) -> int:
        """``tasks``: (description, hours, [objective ids])."""
        with app.app_context():
            entry = Entry(course_id=member.course_id, intern_id=member.user_id, week_start=week_start, state=state,
                          reflection=reflection, reflection_html=render_markdown(reflection), revision=revision,
                          submitted_at=utcnow() if state is not EntryState.draft else None)
            for position, (description, hours, objective_ids) in enumerate(tasks or []):
                task = Task(position=position, description=description, hours=Decimal(hours))
                task.objectives = [db.session.get(Objective, i) for i in objective_ids]
                entry.tasks.append(task)
            db.session.add(entry)
            db.session.commit()
            return entry.id

    return make
