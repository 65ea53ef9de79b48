"""What the LTI Advantage tests share: launches through the sandbox LMS (so the claims
are stored the way a real launch stores them), the course and people they made, a log
of the tool's outgoing calls, and a sandbox without faults before and after each test."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from flask import current_app

from lti import http
from lti.models import Platform
from lti.sandbox import platform as sandbox
from lti.sandbox import services as sandbox_services
from lti.sandbox.models import SandboxLineItem, SandboxScore
from portfolio.db import db
from portfolio.lms import Score
from portfolio.people.models import Course, User
from tests.lti.test_sandbox import sandbox_launch


@pytest.fixture(autouse=True)
def clean_sandbox_services():
    sandbox_services.clear_faults()
    sandbox_services.member_status.clear()
    yield
    sandbox_services.clear_faults()
    sandbox_services.member_status.clear()


@pytest.fixture
def outgoing(monkeypatch):
    """Every call the tool makes to a platform, as (method, path), in order."""
    calls: list[tuple[str, str]] = []
    original = http.PlatformSession.request

    def request(self, method, url, **kwargs):
        from urllib.parse import urlsplit

        calls.append((method.upper(), urlsplit(url).path))
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(http.PlatformSession, "request", request)
    return calls


def service_calls(calls) -> list[tuple[str, str]]:
    """The calls to the grade and roster services (not key sets, not tokens)."""
    return [c for c in calls if "/courses/" in c[1]]


def token_requests(calls) -> int:
    return sum(1 for method, path in calls if method == "POST" and path.endswith("/token"))


def launch(make_client, shape: str, *people: str) -> None:
    """Each person opens the tool from the sandbox course, in a browser of their own."""
    for person in people:
        response = sandbox_launch(make_client(), shape, person)
        assert response.status_code in (200, 302), response.get_data(as_text=True)


def issuer(shape: str) -> str:
    """The sandbox's issuer as a request sees it (outside one, url_for is already absolute)."""
    with current_app.test_request_context():
        return sandbox.issuer(shape)


def course_of(shape: str) -> Course:
    return db.session.scalar(sa.select(Course).join(Platform, Platform.id == Course.platform_id)
                             .where(Platform.issuer == issuer(shape),
                                    Course.context_id == sandbox.CONTEXT["id"]))


def user_of(shape: str, person: str) -> User:
    sub = sandbox.sub_for(sandbox.PEOPLE_BY_KEY[person], shape)
    return db.session.scalar(sa.select(User).where(User.lti_sub == sub))


def score_for(course: Course, intern: User, given: float = 8.5, maximum: float = 10.0, *,
              timestamp: datetime | None = None, comment: str | None = "Thorough reflections") -> Score:
    return Score(course_id=course.id, intern_id=intern.id, score_given=given, score_maximum=maximum,
                 timestamp=timestamp or datetime.now(timezone.utc), comment=comment)


def sandbox_scores(shape: str | None = None) -> list[SandboxScore]:
    """Every score the sandbox received, oldest first (read fresh: the server thread wrote them)."""
    db.session.commit()
    query = sa.select(SandboxScore).join(SandboxLineItem).order_by(SandboxScore.id)
    if shape:
        query = query.where(SandboxLineItem.shape == shape)
    return list(db.session.scalars(query))


def sandbox_lineitems(shape: str) -> list[SandboxLineItem]:
    db.session.commit()
    return list(db.session.scalars(sa.select(SandboxLineItem).where(SandboxLineItem.shape == shape)
                                   .order_by(SandboxLineItem.id)))
