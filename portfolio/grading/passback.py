"""Sending released grades to the LMS gradebook from the outbox (``ScoreDelivery``).

A job, not a request: it owns its transactions and commits once per row, so a crash
halfway loses nothing but the attempt in progress. Each row is claimed with a conditional
UPDATE (pending and due → sending) that only one worker can win; while a row is
``sending``, its ``next_attempt_at`` records when it was claimed, so a row left behind by
a dead worker is released after ``STUCK_AFTER``.

The grade may change while its score is on the way (an advisor edits it, the rubric
changes): that writes a newer ``timestamp`` and puts the row back to ``pending``. Every
outcome is therefore written with an UPDATE conditional on the row still being ``sending``
with the timestamp that was sent, so a newer score is never marked synced unsent.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

import sqlalchemy as sa

from portfolio import lms as lms_module
from portfolio.db import db, utcnow
from portfolio.grading.models import DeliveryState, Grade, ScoreDelivery
from portfolio.jobs import CLOCK_SKEW
from portfolio.people.models import Course

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
STUCK_AFTER = timedelta(minutes=15)  # a claim older than this belongs to a dead worker
NOT_OFFERED_RETRY = timedelta(minutes=10)
NOT_OFFERED = "The LMS has not offered its gradebook for this course yet."
INTERRUPTED = "interrupted while sending"


def deliver_due(now: datetime | None = None, limit: int = 50) -> int:
    """Send up to ``limit`` due scores, each claimed by one worker only; returns how many were synced."""
    now = now or utcnow()
    release_stuck(now)
    lms = lms_module.current()
    due = db.session.execute(
        sa.select(ScoreDelivery.id, ScoreDelivery.course_id)
        .where(ScoreDelivery.state == DeliveryState.pending, ScoreDelivery.next_attempt_at <= now + CLOCK_SKEW)
        .order_by(ScoreDelivery.next_attempt_at, ScoreDelivery.id).limit(limit)
    ).all()
    db.session.commit()  # end the read, so every claim starts a fresh write transaction
    offered: dict[int, bool] = {}
    synced = 0
    for delivery_id, course_id in due:
        course = db.session.get(Course, course_id)
        if course_id not in offered:
            offered[course_id] = _grades_supported(lms, course)
        if not offered[course_id]:
            _postpone(delivery_id, now)
            continue
        claimed = _claim(delivery_id, now)
        if claimed is None:
            continue  # another worker took it, or it changed meanwhile
        sent_timestamp, attempts, score = claimed
        try:
            receipt = lms.send_score(course, score)
        except lms_module.DeliveryRefused as refused:
            _settle(delivery_id, sent_timestamp, state=DeliveryState.failed, attempts=attempts + 1,
                    last_error=_short(refused.message), last_status=refused.status)
            log.error("score %s refused by the LMS (%s): %s", delivery_id, refused.status, refused.message)
        except lms_module.DeliveryDeferred as deferred:
            _defer(delivery_id, sent_timestamp, attempts + 1, now, message=deferred.message, status=deferred.status,
                   retry_after=deferred.retry_after)
        except Exception as error:  # a bug or an unexpected answer: keep the score, try later
            log.exception("sending score %s failed", delivery_id)
            _defer(delivery_id, sent_timestamp, attempts + 1, now, message=f"{type(error).__name__}: {error}",
                   status=None, retry_after=None)
        else:
            if _settle(delivery_id, sent_timestamp, state=DeliveryState.synced, receipt=_short(receipt or "", 255),
                       synced_at=utcnow(), last_error=None, last_status=None):
                synced += 1
            else:
                log.info("score %s changed while it was being sent; the newer one goes next", delivery_id)
        db.session.commit()
    return synced


def release_stuck(now: datetime) -> int:
    """Put back rows claimed more than STUCK_AFTER ago by a worker that never finished."""
    released = db.session.execute(
        sa.update(ScoreDelivery)
        .where(ScoreDelivery.state == DeliveryState.sending, ScoreDelivery.next_attempt_at <= now - STUCK_AFTER)
        .values(state=DeliveryState.pending, next_attempt_at=now, last_error=INTERRUPTED)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return released


def retry_delay(attempts: int) -> timedelta:
    """1 min, 2, 4 … up to 6 h after the n-th failure, plus up to 10 % jitter."""
    delay = min(LONGEST_RETRY, FIRST_RETRY * 2 ** (max(attempts, 1) - 1))
    return delay * random.uniform(1.0, 1.1)


def kick() -> None:
    """Deliver due scores once this response has been sent (``GRADE_DELIVERY = "after_response"``;
    ``"off"`` leaves them to ``flask grading deliver``)."""
    from portfolio import jobs

    jobs.deliver_after_response("grading.deliver", deliver_due, setting="GRADE_DELIVERY")


def _grades_supported(lms, course: Course | None) -> bool:
    if course is None:
        return False
    try:
        return bool(lms.grades_supported(course))
    except Exception:
        log.exception("cannot tell whether course %s offers its gradebook", course.id)
        return False


def _postpone(delivery_id: int, now: datetime) -> None:
    """No gradebook offered yet: the score waits (not an attempt), and says why."""
    db.session.execute(
        sa.update(ScoreDelivery)
        .where(ScoreDelivery.id == delivery_id, ScoreDelivery.state == DeliveryState.pending,
               ScoreDelivery.next_attempt_at <= now + CLOCK_SKEW)
        .values(next_attempt_at=now + NOT_OFFERED_RETRY, last_error=NOT_OFFERED)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _claim(delivery_id: int, now: datetime) -> tuple[datetime, int, lms_module.Score] | None:
    """pending and due → sending, for exactly one worker; commits so the others see it, and
    returns what is being sent (read after the claim, so it is the row's latest score)."""
    claimed = db.session.execute(
        sa.update(ScoreDelivery)
        .where(ScoreDelivery.id == delivery_id, ScoreDelivery.state == DeliveryState.pending,
               ScoreDelivery.next_attempt_at <= now + CLOCK_SKEW)  # not rescheduled by another worker meanwhile
        .values(state=DeliveryState.sending, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    if not claimed:
        return None
    row = db.session.execute(
        sa.select(ScoreDelivery.timestamp, ScoreDelivery.attempts, ScoreDelivery.score_given,
                  ScoreDelivery.score_maximum, ScoreDelivery.comment, ScoreDelivery.course_id, Grade.intern_id)
        .join(Grade, Grade.id == ScoreDelivery.grade_id)
        .where(ScoreDelivery.id == delivery_id)
    ).one()
    db.session.commit()  # hold no transaction open while the LMS answers
    score = lms_module.Score(course_id=row.course_id, intern_id=row.intern_id, score_given=float(row.score_given),
                             score_maximum=float(row.score_maximum), timestamp=row.timestamp, comment=row.comment)
    return row.timestamp, row.attempts, score


def _settle(delivery_id: int, sent_timestamp: datetime, **values) -> bool:
    """Write an outcome only if the row is still the one that was sent; False when it changed."""
    return db.session.execute(
        sa.update(ScoreDelivery)
        .where(ScoreDelivery.id == delivery_id, ScoreDelivery.state == DeliveryState.sending,
               ScoreDelivery.timestamp == sent_timestamp)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount == 1


def _defer(delivery_id: int, sent_timestamp: datetime, attempts: int, now: datetime, *, message: str,
           status: int | None, retry_after: timedelta | None) -> None:
    if attempts >= MAX_ATTEMPTS:
        _settle(delivery_id, sent_timestamp, state=DeliveryState.failed, attempts=attempts,
                last_error=_short(message), last_status=status)
        log.error("score %s failed for good after %s attempts: %s", delivery_id, attempts, message)
        return
    delay = retry_after if retry_after is not None and retry_after > timedelta(0) else retry_delay(attempts)
    _settle(delivery_id, sent_timestamp, state=DeliveryState.pending, attempts=attempts,
            next_attempt_at=now + delay, last_error=_short(message), last_status=status)
    log.warning("score %s not sent (attempt %s): %s", delivery_id, attempts, message)


def _short(text: str, limit: int = 2000) -> str:
    return str(text)[:limit]
