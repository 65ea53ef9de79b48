"""The outbox of scores: a released grade reaches the LMS once it answers, waits with
backoff (or as long as the LMS asks) when it cannot, fails at once when the LMS refuses
and can be retried; a change made while a score is on its way is sent too, never lost."""

from __future__ import annotations

from datetime import timedelta

from portfolio.db import utcnow
from portfolio.grading import passback
from portfolio.grading.passback import deliver_due
from portfolio.lms import DeliveryDeferred, DeliveryRefused
from tests.journal.helpers import token_for


def run(app, now=None) -> int:
    with app.app_context():
        return deliver_due(now=now)


def released(klass, chosen=("Accomplished", "Rich")) -> int:
    grade_id = klass.save(chosen=chosen, comment="Well done.")
    klass.release(grade_id)
    return grade_id


def test_a_released_score_is_sent_and_marked_synced(app, klass, fake_lms):
    grade_id = released(klass)
    fake_lms.outcomes = ["200 OK"]
    assert run(app) == 1
    [score] = fake_lms.sent
    delivery = klass.delivery(grade_id)
    assert (score.course_id, score.intern_id, score.score_given, score.score_maximum, score.comment) == \
        (klass.course_id, klass.intern.user_id, 10.0, 10.0, "Well done.")
    assert score.timestamp == delivery["timestamp"] and score.timestamp.tzinfo is not None
    assert delivery["state"].value == "synced" and delivery["receipt"] == "200 OK" and delivery["synced_at"]
    assert run(app) == 0 and len(fake_lms.sent) == 1  # nothing due any more


def test_deferred_backs_off_exponentially_then_fails_after_ten_attempts(app, klass, fake_lms):
    grade_id = released(klass)
    now = utcnow()
    delays = []
    for attempt in range(1, 11):
        fake_lms.outcomes = [DeliveryDeferred("LMS down", status=503)]
        assert run(app, now) == 0
        delivery = klass.delivery(grade_id)
        assert delivery["attempts"] == attempt
        if attempt < 10:
            assert delivery["state"].value == "pending"
            assert delivery["last_error"] == "LMS down" and delivery["last_status"] == 503
            delays.append(delivery["next_attempt_at"] - now)
            assert run(app, now) == 0 and len(fake_lms.sent) == attempt  # not due before its time
            now = delivery["next_attempt_at"]
    assert klass.delivery(grade_id)["state"].value == "failed"
    expected = [min(timedelta(minutes=2 ** i), timedelta(hours=6)) for i in range(9)]
    for delay, base in zip(delays, expected):
        assert base <= delay <= base * 1.1
    assert run(app, now + timedelta(days=1)) == 0 and len(fake_lms.sent) == 10  # a failed score waits for a person


def test_retry_after_from_the_lms_is_honoured(app, klass, fake_lms):
    grade_id = released(klass)
    now = utcnow()
    fake_lms.outcomes = [DeliveryDeferred("slow down", status=429, retry_after=timedelta(minutes=42))]
    run(app, now)
    delivery = klass.delivery(grade_id)
    assert delivery["next_attempt_at"] == now + timedelta(minutes=42) and delivery["attempts"] == 1
    assert run(app, now + timedelta(minutes=41)) == 0
    assert run(app, now + timedelta(minutes=42)) == 1


def test_refused_fails_at_once_and_the_retry_button_sends_it_again(app, client, login, klass, fake_lms):
    grade_id = released(klass)
    fake_lms.outcomes = [DeliveryRefused("scoreGiven must not exceed scoreMaximum", status=400)]
    run(app)
    delivery = klass.delivery(grade_id)
    assert delivery["state"].value == "failed" and delivery["last_status"] == 400
    assert delivery["last_error"] == "scoreGiven must not exceed scoreMaximum"

    login(client, klass.advisor)
    page = client.get(f"/c/{klass.course_id}/grades").get_data(as_text=True)
    assert "not accepted by the LMS" in page and "scoreGiven must not exceed scoreMaximum" in page and "Retry now" in page
    response = client.post(f"/c/{klass.course_id}/grades/{klass.intern.user_id}/retry",
                           data={"csrf_token": token_for(client, klass.course_id)})
    assert response.status_code == 302
    delivery = klass.delivery(grade_id)
    assert delivery["state"].value == "pending" and delivery["attempts"] == 0
    assert klass.events("grade.delivery_retried")[0]["previous_state"] == "failed"
    assert run(app) == 1 and klass.delivery(grade_id)["state"].value == "synced"
    # a synced score has nothing to retry
    again = client.post(f"/c/{klass.course_id}/grades/{klass.intern.user_id}/retry",
                        data={"csrf_token": token_for(client, klass.course_id)})
    assert again.status_code == 409


def test_a_change_while_the_score_is_on_its_way_is_sent_as_well(app, klass, fake_lms):
    grade_id = released(klass, chosen=("Accomplished", "Rich"))
    # the advisor saves a new score while the LMS is still answering the first one
    fake_lms.during_send = lambda score: klass.save(chosen=("Developing", "Rich"), comment="Well done.")
    assert run(app) == 0
    delivery = klass.delivery(grade_id)
    assert delivery["state"].value == "pending" and delivery["score_given"] == 8.0
    assert run(app) == 1
    first, second = fake_lms.sent
    assert (first.score_given, second.score_given) == (10.0, 8.0)
    assert second.timestamp > first.timestamp
    assert klass.delivery(grade_id)["state"].value == "synced"


def test_a_deferral_of_an_old_score_does_not_delay_the_new_one(app, klass, fake_lms):
    grade_id = released(klass)
    fake_lms.during_send = lambda score: klass.save(chosen=("Beginning", "Rich"), comment="Well done.")
    fake_lms.outcomes = [DeliveryDeferred("timeout")]
    now = utcnow()
    run(app, now)
    delivery = klass.delivery(grade_id)
    assert delivery["state"].value == "pending" and delivery["attempts"] == 0
    assert delivery["next_attempt_at"] <= utcnow() and delivery["last_error"] is None


def test_a_claim_left_by_a_dead_worker_is_released(app, klass, fake_lms):
    from portfolio.grading.models import DeliveryState

    grade_id = released(klass)
    now = utcnow()
    klass.set_delivery(grade_id, state=DeliveryState.sending, next_attempt_at=now - timedelta(minutes=5))
    assert run(app, now) == 0 and fake_lms.sent == []  # another worker may still be at it
    assert run(app, now + timedelta(minutes=11)) == 1
    assert klass.delivery(grade_id)["state"].value == "synced"


def test_no_gradebook_offered_waits_without_counting_attempts(app, klass, fake_lms, client, login):
    grade_id = released(klass)
    fake_lms.supported = False
    now = utcnow()
    assert run(app, now) == 0 and fake_lms.sent == []
    delivery = klass.delivery(grade_id)
    assert delivery["state"].value == "pending" and delivery["attempts"] == 0
    assert delivery["last_error"] == passback.NOT_OFFERED and delivery["next_attempt_at"] > now
    fake_lms.supported = True
    assert run(app, now + timedelta(minutes=10)) == 1


def test_an_unexpected_error_is_kept_and_tried_again(app, klass, fake_lms):
    grade_id = released(klass)
    fake_lms.outcomes = [RuntimeError("boom")]
    run(app)
    delivery = klass.delivery(grade_id)
    assert delivery["state"].value == "pending" and delivery["attempts"] == 1 and "boom" in delivery["last_error"]


def test_kick_delivers_after_the_response_unless_switched_off(app, klass, fake_lms, monkeypatch):
    from portfolio.grading.passback import kick

    released(klass)
    with app.test_request_context("/"):
        kick()
        response = app.process_response(app.response_class("ok"))
    response.close()
    assert fake_lms.sent == []  # GRADE_DELIVERY is "off" in these tests

    monkeypatch.setitem(app.config, "GRADE_DELIVERY", "after_response")
    with app.test_request_context("/"):
        kick()
        kick()
        response = app.process_response(app.response_class("ok"))
    assert fake_lms.sent == []  # not before the response is sent
    response.close()
    assert len(fake_lms.sent) == 1


def test_cli_delivers(app, klass, fake_lms, runner):
    grade_id = released(klass)
    result = runner.invoke(args=["grading", "deliver"])
    assert result.exit_code == 0, result.output
    assert "1 synced" in result.output and klass.delivery(grade_id)["state"].value == "synced"


def test_without_an_lms_scores_wait(app, klass, monkeypatch):
    from portfolio.lms import EXTENSION

    monkeypatch.delitem(app.extensions, EXTENSION, raising=False)
    grade_id = released(klass)
    assert run(app) == 0
    assert klass.delivery(grade_id)["state"].value == "pending"


def test_a_score_queued_by_a_clock_a_little_ahead_is_sent_at_once(app, klass, fake_lms):
    """An app server's clock two seconds ahead of the worker's (or the worker's clock stepped
    back): the score it queued "now" goes now, not at the next sweep; a retry a minute
    away still waits."""
    grade_id = released(klass)
    queued_at = klass.delivery(grade_id)["next_attempt_at"]
    fake_lms.outcomes = [DeliveryDeferred("LMS down", status=503), "200 OK"]
    assert run(app, now=queued_at - timedelta(seconds=2)) == 0  # sent, and deferred by the LMS
    assert len(fake_lms.sent) == 1
    retry_at = klass.delivery(grade_id)["next_attempt_at"]
    assert run(app, now=retry_at - timedelta(seconds=30)) == 0 and len(fake_lms.sent) == 1
    assert run(app, now=retry_at - timedelta(seconds=2)) == 1 and len(fake_lms.sent) == 2
