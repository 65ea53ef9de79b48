from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role

RUBRIC = [
    ("Reflection", [("Beginning", "0"), ("Developing", "2"), ("Accomplished", "4")]),
    ("Evidence", [("Thin", "1"), ("Solid", "3.5"), ("Rich", "6")]),
]


class FakeLMS:
    """Stands in for the LMS: records every score and answers as told, one outcome per call
    (an exception instance to raise, or a receipt); "200 OK" when nothing more was queued."""

    def __init__(self):
        self.sent: list = []
        self.outcomes: list = []
        self.supported = True
        self.during_send = None  # called with the score while "the LMS" is answering

    def grades_supported(self, course) -> bool:
        return self.supported

    def send_score(self, course, score) -> str:
        self.sent.append(score)
        if self.during_send is not None:
            hook, self.during_send = self.during_send, None
            hook(score)
        outcome = self.outcomes.pop(0) if self.outcomes else "200 OK"
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def roster_supported(self, course) -> bool:
        return False

    def fetch_roster(self, course):
        return []


@pytest.fixture(autouse=True)
def _manual_delivery(app, monkeypatch):
    """Tests decide when scores go out."""
    monkeypatch.setitem(app.config, "GRADE_DELIVERY", "off")


@pytest.fixture
def fake_lms(app, monkeypatch):
    from portfolio.lms import EXTENSION

    fake = FakeLMS()
    monkeypatch.setitem(app.extensions, EXTENSION, fake)  # restored after the test
    return fake


def build_rubric(app, course_id: int, advisor, criteria=RUBRIC) -> list[int]:
    """Criteria through the operation, committed; returns their ids."""
    from decimal import Decimal

    from portfolio.grading import operations
    from portfolio.grading.operations import LevelData
    from portfolio.people.models import Course, Membership

    with app.app_context():
        course = db.session.get(Course, course_id)
        by = db.session.get(Membership, advisor.membership_id)
        ids = []
        for title, levels in criteria:
            criterion = operations.save_criterion(course, None, title=title, description=f"About {title}",
                                                  levels=[LevelData(title=t, points=Decimal(p)) for t, p in levels],
                                                  by=by)
            ids.append(criterion.id)
        db.session.commit()
        return ids


class Class:
    """A course with an advisor, two interns and the two-criterion rubric."""

    def __init__(self, app, make_member):
        self.app = app
        self.intern = make_member(Role.intern, name="Amara Okafor")
        self.course_id = self.intern.course_id
        self.other_intern = make_member(Role.intern, course_id=self.course_id, name="Bo Lindqvist")
        self.advisor = make_member(Role.advisor, course_id=self.course_id, name="Helen Schmidt")
        self.criteria = build_rubric(app, self.course_id, self.advisor)

    def levels(self) -> dict[str, int]:
        """Level title → id."""
        from portfolio.grading.models import Criterion, Level, Rubric

        with self.app.app_context():
            return {level.title: level.id for level in db.session.scalars(
                sa.select(Level).join(Criterion).join(Rubric).where(Rubric.course_id == self.course_id))}

    def save(self, intern=None, chosen=("Accomplished", "Solid"), comment="Well done.", feedback=None):
        """Save a grade through the operation; returns the grade id."""
        from portfolio.grading import operations
        from portfolio.people.models import Course, Membership

        intern = intern or self.intern
        levels = self.levels()
        with self.app.app_context():
            grade = operations.save_grade(
                db.session.get(Course, self.course_id), intern.user_id,
                levels={cid: (levels[title] if title else None) for cid, title in zip(self.criteria, chosen)},
                feedback=feedback or {}, comment=comment, by=db.session.get(Membership, self.advisor.membership_id))
            db.session.commit()
            return grade.id

    def release(self, grade_id: int):
        from portfolio.grading import operations
        from portfolio.grading.models import Grade
        from portfolio.people.models import Membership

        with self.app.app_context():
            operations.release_grade(db.session.get(Grade, grade_id), db.session.get(Membership, self.advisor.membership_id))
            db.session.commit()

    def grade(self, grade_id: int):
        """(state, score, maximum, comment) of a grade, read fresh."""
        from portfolio.grading.models import Grade

        with self.app.app_context():
            g = db.session.get(Grade, grade_id)
            return g.state.value, g.score, g.score_maximum, g.comment

    def delivery(self, grade_id: int):
        """The grade's outbox row as a plain dict (None if there is none), read fresh."""
        from portfolio.grading.models import ScoreDelivery

        with self.app.app_context():
            d = db.session.scalar(sa.select(ScoreDelivery).where(ScoreDelivery.grade_id == grade_id))
            if d is None:
                return None
            return {c: getattr(d, c) for c in ("state", "timestamp", "attempts", "next_attempt_at", "score_given",
                                               "score_maximum", "comment", "last_error", "last_status", "receipt",
                                               "synced_at")}

    def set_delivery(self, grade_id: int, **values):
        from portfolio.grading.models import ScoreDelivery

        with self.app.app_context():
            db.session.execute(sa.update(ScoreDelivery).where(ScoreDelivery.grade_id == grade_id).values(**values))
            db.session.commit()

    def events(self, action: str) -> list:
        from portfolio.audit.models import AuditEvent

        with self.app.app_context():
            return [e.details for e in db.session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


@pytest.fixture
def klass(app, make_member):
    return Class(app, make_member)
