"""From the advisor's release to the LMS gradebook, end to end: the advisor and the intern
launch from the sandbox LMS (so the course's service claims are stored), the advisor
grades and releases, and the outbox job sends the score over HTTP with a real access
token. The sandbox misbehaves on request; the score still lands exactly once."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from lti.sandbox import platform as sandbox
from lti.sandbox import services as sandbox_services
from portfolio.db import db, utcnow
from portfolio.grading import operations, passback
from portfolio.grading.models import DeliveryState, ScoreDelivery
from portfolio.people.models import Course, User
from tests.lti.advantage import (  # noqa: F401  (fixtures)
    clean_sandbox_services, course_of, launch, sandbox_scores, user_of,
)

LATER = timedelta(days=1)  # past any retry delay the job may have chosen


@pytest.fixture
def graded(app, make_client, monkeypatch):
    """Per shape: a course with a one-criterion rubric (2 or 10 points) and Amara's grade
    released at 10 points, its score waiting in the outbox."""
    monkeypatch.setitem(app.config, "GRADE_DELIVERY", "off")

    def make(shape: str) -> dict:
        launch(make_client, shape, "helen", "amara")
        with app.app_context():
            course, helen, amara = course_of(shape), user_of(shape, "helen"), user_of(shape, "amara")
            advisor = helen.membership_in(course)
            criterion = operations.save_criterion(course, None, title="Reflection", by=advisor, levels=[
                operations.LevelData("Thin", Decimal("2")), operations.LevelData("Deep", Decimal("10"))])
            weak, strong = (level.id for level in criterion.levels)
            grade = operations.save_grade(course, amara.id, levels={criterion.id: strong}, comment="Well argued",
                                          by=advisor)
            operations.release_grade(grade, advisor)
            db.session.commit()
            return {"course_id": course.id, "intern_id": amara.id, "sub": amara.lti_sub, "grade_id": grade.id,
                    "criterion_id": criterion.id, "weak": weak, "advisor_id": helen.id}

    return make


def delivery() -> ScoreDelivery:
    db.session.commit()
    return db.session.scalar(sa.select(ScoreDelivery))


@pytest.mark.parametrize("shape", sandbox.SHAPES)
def test_a_released_grade_lands_in_the_gradebook(app, graded, shape):
    made = graded(shape)
    with app.app_context():
        assert passback.deliver_due() == 1
        row = delivery()
        assert row.state is DeliveryState.synced and row.receipt.startswith(("200", "204"))
        [received] = sandbox_scores(shape)
        assert received.user_id == made["sub"]
        assert (received.score_given, received.score_maximum, received.comment) == (10.0, 10.0, "Well argued")
        assert received.timestamp == row.timestamp and received.timestamp_text.endswith("+00:00")
        assert received.timestamp_text == row.timestamp.isoformat(timespec="microseconds")
        assert received.applied


@pytest.mark.parametrize("shape", sandbox.SHAPES)
def test_after_faults_the_score_is_delivered_exactly_once(app, graded, shape, monkeypatch):
    graded(shape)
    normal = app.config["LTI_HTTP_TIMEOUT"]
    with app.app_context():
        now = utcnow()
        for attempt, (fault, status) in enumerate(
                [("503", 503), ("timeout", None), ("rate-limit", 403 if shape == "canvas" else 429)], start=1):
            # A short read timeout only for the timeout fault: elsewhere a busy machine could trip it.
            monkeypatch.setitem(app.config, "LTI_HTTP_TIMEOUT", (2, 0.3) if fault == "timeout" else normal)
            sandbox_services.inject(fault)
            now += LATER
            assert passback.deliver_due(now=now) == 0
            row = delivery()
            assert (row.state, row.attempts, row.last_status) == (DeliveryState.pending, attempt, status)
            assert row.next_attempt_at > now and row.last_error
        monkeypatch.setitem(app.config, "LTI_HTTP_TIMEOUT", normal)
        assert passback.deliver_due(now=now + LATER) == 1
        assert delivery().state is DeliveryState.synced
        assert [(s.score_given, s.applied) for s in sandbox_scores(shape)] == [(10.0, True)]


def test_a_resend_after_a_lost_answer_changes_nothing_in_the_lms(app, graded):
    graded("moodle")
    with app.app_context():
        passback.deliver_due()
        # The LMS applied it but the answer never arrived: the row goes out again, same timestamp.
        db.session.execute(sa.update(ScoreDelivery).values(state=DeliveryState.pending))
        db.session.commit()
        assert passback.deliver_due() == 1
        assert [s.applied for s in sandbox_scores("moodle")] == [True, False]


@pytest.mark.parametrize("shape", sandbox.SHAPES)
def test_a_changed_grade_sends_a_newer_score(app, graded, shape):
    made = graded(shape)
    with app.app_context():
        passback.deliver_due()
        first = delivery().timestamp
        course, helen = db.session.get(Course, made["course_id"]), db.session.get(User, made["advisor_id"])
        operations.save_grade(course, made["intern_id"], levels={made["criterion_id"]: made["weak"]},
                              comment="Revised after the viva", by=helen.membership_in(course))
        db.session.commit()
        assert passback.deliver_due() == 1
        second = delivery().timestamp
        assert second > first
        scores = sandbox_scores(shape)
        assert [(s.score_given, s.applied) for s in scores] == [(10.0, True), (2.0, True)]
        assert scores[-1].timestamp == second and scores[-1].comment == "Revised after the viva"
        assert len({s.line_item_id for s in scores}) == 1  # the same column


@pytest.mark.parametrize("shape", sandbox.SHAPES)
def test_a_refused_score_fails_with_the_lms_s_answer(app, graded, shape):
    made = graded(shape)
    sandbox_services.inject("400")
    with app.app_context():
        assert passback.deliver_due() == 0
        row = delivery()
        assert (row.state, row.last_status) == (DeliveryState.failed, 400)
        assert "injected fault" in row.last_error
        assert sandbox_scores(shape) == []
        # Nothing more goes out until someone retries it.
        assert passback.deliver_due(now=utcnow() + LATER) == 0
        assert delivery().attempts == 1
        # The advisor retries once the LMS is fixed.
        course, helen = db.session.get(Course, made["course_id"]), db.session.get(User, made["advisor_id"])
        operations.retry_delivery(delivery().grade, helen.membership_in(course))
        db.session.commit()
        assert passback.deliver_due() == 1
        assert [s.applied for s in sandbox_scores(shape)] == [True]
