"""What only PostgreSQL can prove: two real transactions deciding at once, and the
append-only audit trail. These run on a scratch PostgreSQL database in every run of
the suite (CI has PostgreSQL for both passes)."""

from __future__ import annotations

import itertools
import os
import threading
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portfolio import create_app
from portfolio.db import db

SERVER = os.environ.get("PORTFOLIO_TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    import flask_migrate

    url = sa.engine.make_url(SERVER)
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text("DROP DATABASE IF EXISTS portfolio_signoff"))
            connection.execute(sa.text("CREATE DATABASE portfolio_signoff"))
    except sa.exc.OperationalError as error:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL is not reachable: {error}")
    finally:
        admin.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url.set(database="portfolio_signoff").render_as_string(False),
                      "SECRET_KEY": "x" * 40, "STORAGE_DIR": str(tmp_path_factory.mktemp("files")),
                      "MAIL_DELIVERY": "manual"})
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


_counter = itertools.count()


def _world(app):
    """A course with an intern, a submitted week, an advisor and a supervisor; returns ids."""
    from lti.operations import register_platform
    from portfolio.journal.models import Entry, EntryState, Task
    from portfolio.people.models import Course, Membership, Role, User
    from portfolio.signoff.models import Supervision

    n = next(_counter)
    with app.app_context():
        platform, _ = register_platform(issuer=f"https://lms{n}.example", client_id="tool", auth_login_url="https://x/a",
                                        auth_token_url="https://x/t", key_set_url="https://x/k", deployment_ids=["1"])
        course = Course(platform_id=platform.id, deployment_id=platform.deployments[0].id, context_id=f"c{n}", title="C")
        intern, advisor, supervisor = User(name="Intern"), User(name="Advisor"), User(name="Supervisor", email="s@x")
        db.session.add_all([course, intern, advisor, supervisor])
        db.session.flush()
        db.session.add_all([Membership(user=intern, course=course, role=Role.intern),
                            Membership(user=advisor, course=course, role=Role.advisor),
                            Membership(user=supervisor, course=course, role=Role.supervisor),
                            Supervision(course_id=course.id, intern_id=intern.id, supervisor_id=supervisor.id)])
        entry = Entry(course_id=course.id, intern_id=intern.id, week_start=date(2027, 3, 1), state=EntryState.submitted,
                      reflection="r", reflection_html="<p>r</p>", submissions=1)
        entry.tasks.append(Task(position=0, description="t", hours=Decimal("3")))
        db.session.add(entry)
        db.session.commit()
        return course.id, entry.id, advisor.id, supervisor.id


def test_two_simultaneous_decisions_record_exactly_one(pg_app):
    from portfolio.errors import Conflict
    from portfolio.journal.models import Entry
    from portfolio.people.models import Membership
    from portfolio.signoff import operations
    from portfolio.signoff.models import Decision, DecisionKind

    for _ in range(5):
        course_id, entry_id, advisor_id, supervisor_id = _world(pg_app)
        with pg_app.app_context():
            shown = operations.content_hash(db.session.get(Entry, entry_id))
        barrier = threading.Barrier(2)
        outcomes = {}

        def decide(user_id, kind):
            with pg_app.app_context():
                membership = db.session.scalar(sa.select(Membership).where(
                    Membership.user_id == user_id, Membership.course_id == course_id))
                entry = db.session.get(Entry, entry_id)
                entry.tasks  # loaded before the race starts
                barrier.wait()
                try:
                    operations.decide(entry, kind, by=membership, shown_hash=shown, comment="why", via="web")
                    db.session.commit()
                    outcomes[user_id] = "decided"
                except Conflict as conflict:
                    db.session.rollback()
                    outcomes[user_id] = conflict.description

        threads = [threading.Thread(target=decide, args=(supervisor_id, DecisionKind.approved)),
                   threading.Thread(target=decide, args=(advisor_id, DecisionKind.changes_requested))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert sorted(outcomes.values(), key=lambda v: v != "decided")[0] == "decided"
        assert list(outcomes.values()).count("decided") == 1, outcomes
        loser = next(v for v in outcomes.values() if v != "decided")
        assert loser.startswith("Already decided:"), loser
        with pg_app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(Decision.id)).where(Decision.entry_id == entry_id)) == 1


def test_the_audit_trail_cannot_be_changed_or_deleted_by_the_application(pg_app):
    from portfolio.audit.models import AuditEvent
    from portfolio.audit.operations import record_event

    with pg_app.app_context():
        record_event("test.event", note="kept")
        db.session.commit()
        event_id = db.session.scalar(sa.select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        for statement in (sa.update(AuditEvent).where(AuditEvent.id == event_id).values(action="forged"),
                          sa.delete(AuditEvent).where(AuditEvent.id == event_id)):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                db.session.execute(statement)
            db.session.rollback()
        assert db.session.get(AuditEvent, event_id).action == "test.event"
        # maintenance (erasure, retention) says so explicitly, in its own transaction
        db.session.execute(sa.text("SET LOCAL portfolio.audit_maintenance = 'on'"))
        db.session.execute(sa.delete(AuditEvent).where(AuditEvent.id == event_id))
        db.session.commit()
        assert db.session.get(AuditEvent, event_id) is None
