"""The LMS as the application sees it: where released grades go and where the roster
comes from. The application never speaks LTI; ``lti.init_app`` registers the object
that does (AGS scores, NRPS memberships) with :func:`register`, and everything here
is what the rest of the application may rely on.

Delivery is at-least-once from the outbox; the LMS side makes it exactly-once from the
user's point of view (a score carries a timestamp that only increases, so a resend of
the same score is a no-op for the LMS, and an older one is ignored).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app

from portfolio.people.models import Course, Role

EXTENSION = "portfolio.lms"


@dataclass(frozen=True)
class Score:
    """One intern's released grade, as the LMS gradebook should show it."""

    course_id: int
    intern_id: int
    score_given: float
    score_maximum: float
    timestamp: datetime  # aware UTC, microseconds kept; strictly increasing per intern and course
    comment: str | None = None
    activity_progress: str = "Completed"
    grading_progress: str = "FullyGraded"


@dataclass(frozen=True)
class RosterMember:
    """One member of the course as the LMS lists it. ``role`` is already translated
    (None when the LMS role means nothing to this product)."""

    sub: str
    name: str | None
    email: str | None
    role: Role | None
    active: bool = True


class DeliveryDeferred(Exception):
    """The LMS cannot take it now (down, timing out, rate-limiting, not yet connected):
    try again later, after ``retry_after`` when the LMS said so."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: timedelta | None = None):
        super().__init__(message)
        self.message, self.status, self.retry_after = message, status, retry_after


class DeliveryRefused(Exception):
    """The LMS answered in a way retrying will not change (400, 404, a missing scope):
    a person has to look. The message is the LMS's answer, shown to the advisor."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.message, self.status = message, status


class LMS(Protocol):
    def grades_supported(self, course: Course) -> bool:
        """Whether the course's launches offered the grade service (AGS) with a score scope."""

    def send_score(self, course: Course, score: Score) -> str:
        """Post the score to the course's line item; returns a short receipt (e.g. "200 OK").
        Raises DeliveryDeferred or DeliveryRefused."""

    def roster_supported(self, course: Course) -> bool:
        """Whether the course's launches offered the membership service (NRPS)."""

    def fetch_roster(self, course: Course) -> list[RosterMember]:
        """Every member of the course, all pages. Raises DeliveryDeferred or DeliveryRefused."""


class Disconnected:
    """No LMS registered (an application built without lti/): nothing can be sent yet."""

    def grades_supported(self, course: Course) -> bool:
        return False

    def send_score(self, course: Course, score: Score) -> str:
        raise DeliveryDeferred("No LMS connection is configured.")

    def roster_supported(self, course: Course) -> bool:
        return False

    def fetch_roster(self, course: Course) -> list[RosterMember]:
        raise DeliveryDeferred("No LMS connection is configured.")


def register(app, lms: LMS) -> None:
    app.extensions[EXTENSION] = lms


def current() -> LMS:
    return current_app.extensions.get(EXTENSION) or Disconnected()
