"""Who may do what: every objectives route × intern, advisor and admin of the course,
advisor of another course of the same platform, and a signed-out visitor.

Every request carries a valid CSRF token, so that the status is the route's own answer
and not the CSRF check's; denied requests must leave no trace in the audit trail."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from portfolio.audit.models import AuditEvent
from portfolio.db import db
from portfolio.people.models import Course, Role

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

READ, MANAGE = "read", "manage"
ROUTES = [
    ("GET", "objectives.index", "", READ),
    ("GET", "objectives.create", "/new", MANAGE),
    ("POST", "objectives.create", "/new", MANAGE),
    ("GET", "objectives.edit", "/{objective}/edit", MANAGE),
    ("POST", "objectives.edit", "/{objective}/edit", MANAGE),
    ("POST", "objectives.move", "/{objective}/move", MANAGE),
    ("POST", "objectives.retire", "/{objective}/retire", MANAGE),
    ("POST", "objectives.reactivate", "/{retired}/reactivate", MANAGE),
    ("POST", "objectives.delete", "/{unused}/delete", MANAGE),
    ("GET", "objectives.copy", "/copy", MANAGE),
    ("POST", "objectives.copy", "/copy", MANAGE),
    ("GET", "objectives.export", "/export.csv", MANAGE),
    ("GET", "objectives.import", "/import", MANAGE),
    ("POST", "objectives.import", "/import", MANAGE),
]
WHO = ["intern", "advisor", "admin", "advisor of another course", "anonymous"]


def expected(who: str, method: str, kind: str) -> int:
    if who == "anonymous":
        return 401
    if who == "advisor of another course":
        return 404
    if who == "intern" and kind == MANAGE:
        return 403
    return 200 if method == "GET" else 302


def test_the_matrix_covers_every_objectives_route(app):
    routes = {
        (method, rule.endpoint)
        for rule in app.url_map.iter_rules() if rule.endpoint.startswith("objectives.")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {(method, endpoint) for method, endpoint, _, _ in ROUTES}
    assert all(rule.rule.startswith("/c/<int:course_id>/objectives")
               for rule in app.url_map.iter_rules() if rule.endpoint.startswith("objectives."))


@pytest.fixture
def world(app, make_course, make_member, make_objective):
    """A course with an objective, a retired one and an unused one; a course to copy from."""
    course = make_course("Internship 2027")
    with app.app_context():
        platform_id = db.session.get(Course, course).platform_id
    source = make_course("Internship 2026", platform_id=platform_id)
    make_objective(source, code="OLD.1")
    return {
        "course": course,
        "source": source,
        "objective": make_objective(course, code="A.1"),
        "retired": make_objective(course, code="A.2", retired=True),
        "unused": make_objective(course, code="A.3"),
        "members": {
            "intern": make_member(Role.intern, course_id=course),
            "advisor": make_member(Role.advisor, course_id=course),
            "admin": make_member(Role.admin, course_id=course),
            "advisor of another course": make_member(Role.advisor, course_id=make_course(platform_id=platform_id)),
        },
    }


def browser_of(who: str, world, make_client, login):
    """A client signed in as ``who`` and holding a CSRF token (the anonymous one signed out after taking it)."""
    client = make_client()
    member = world["members"]["intern" if who == "anonymous" else who]
    login(client, member)
    token = TOKEN.search(client.get(f"/c/{member.course_id}/preferences").get_data(as_text=True)).group(1)
    if who == "anonymous":
        with client.session_transaction() as session:
            session.pop("_user_id")
    return client, token


def objective_events(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action.startswith("objective.")))


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "endpoint", "path", "kind"), ROUTES,
                         ids=[f"{m} {e.removeprefix('objectives.')}" for m, e, _, _ in ROUTES])
def test_access(app, world, make_client, login, who, method, endpoint, path, kind):
    client, token = browser_of(who, world, make_client, login)
    url = f"/c/{world['course']}/objectives" + path.format(**world)
    if method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data={
            "csrf_token": token, "code": "NEW.1", "title": "New objective", "target": "3", "direction": "down",
            "source_id": world["source"], "format": "csv",
            "file": (io.BytesIO(b"code,title\nNEW.2,Imported\n"), "objectives.csv"),
        })
    assert response.status_code == expected(who, method, kind), response.get_data(as_text=True)[:500]
    changed = objective_events(app)
    assert changed > 0 if response.status_code == 302 else changed == 0
