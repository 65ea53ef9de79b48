"""Grading an intern: the score is computed on the server from the chosen levels, drafts
stay with advisors, releasing (one or all) shows the grade to the intern and writes the
outbox row whose timestamp only ever increases."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portfolio.db import db
from tests.journal.helpers import csrf_token, token_for
from tests.statements import statements_run


def test_score_is_the_sum_of_the_chosen_levels_out_of_the_rubric_maximum(klass):
    grade_id = klass.save(chosen=("Accomplished", "Solid"))
    assert klass.grade(grade_id) == ("draft", 7.5, 10.0, "Well done.")
    klass.save(chosen=("Developing", None), comment="Half way.")
    assert klass.grade(grade_id) == ("draft", 2.0, 10.0, "Half way.")
    assert klass.delivery(grade_id) is None  # a draft goes nowhere


def test_grading_page_saves_a_draft_and_ignores_a_score_sent_by_the_browser(app, client, login, klass):
    login(client, klass.advisor)
    url = f"/c/{klass.course_id}/grades/{klass.intern.user_id}"
    page = client.get(url).get_data(as_text=True)
    # one fieldset with a legend per criterion, a radio per level plus "not chosen yet"
    assert page.count("<fieldset class=\"criterion") == 2 and "<legend>Reflection" in page
    assert len(re.findall(rf'name="level_{klass.criteria[0]}"', page)) == 4
    assert 'data-points="6.0"' in page and "js/grading.js" in page
    levels = klass.levels()
    response = client.post(url, data={
        "csrf_token": csrf_token(page), f"level_{klass.criteria[0]}": str(levels["Accomplished"]),
        f"level_{klass.criteria[1]}": str(levels["Rich"]), f"feedback_{klass.criteria[1]}": "Great photos.",
        "comment": "Strong portfolio.", "score": "999"})
    assert response.status_code == 302
    from portfolio.grading.models import Grade

    with app.app_context():
        grade = db.session.scalar(sa.select(Grade))
        assert (grade.state.value, grade.score, grade.score_maximum) == ("draft", 10.0, 10.0)
        assert {m.criterion_id: m.feedback for m in grade.marks}[klass.criteria[1]] == "Great photos."
        assert grade.graded_by_id == klass.advisor.user_id
    shown = client.get(url).get_data(as_text=True)
    assert 'id="grade-score-value" form="grade-form">10<' in shown
    assert f'value="{levels["Rich"]}" data-points="6.0" checked' in shown


def test_a_level_of_another_criterion_is_refused_and_the_typing_kept(app, client, login, klass):
    login(client, klass.advisor)
    url = f"/c/{klass.course_id}/grades/{klass.intern.user_id}"
    page = client.get(url).get_data(as_text=True)
    levels = klass.levels()
    response = client.post(url, data={"csrf_token": csrf_token(page),
                                      f"level_{klass.criteria[0]}": str(levels["Rich"]),  # Evidence's level
                                      "comment": "Keep me", f"feedback_{klass.criteria[0]}": "and me"})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Choose one of the levels." in body and "Keep me" in body and "and me" in body
    response = client.post(url, data={"csrf_token": csrf_token(page), f"level_{klass.criteria[0]}": "abc"})
    assert response.status_code == 422
    from portfolio.grading.models import Grade

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Grade.id))) == 0


def test_release_needs_every_criterion(klass, app, client, login):
    grade_id = klass.save(chosen=("Accomplished", None))
    login(client, klass.advisor)
    url = f"/c/{klass.course_id}/grades/{klass.intern.user_id}/release"
    page = client.get(url).get_data(as_text=True)
    assert "Missing: Evidence" in page
    response = client.post(url, data={"csrf_token": token_for(client, klass.course_id)})
    assert response.status_code == 409
    assert klass.grade(grade_id)[0] == "draft" and klass.delivery(grade_id) is None


def test_release_one_shows_it_to_the_intern_and_queues_the_score(app, client, login, klass, make_client):
    grade_id = klass.save(chosen=("Accomplished", "Rich"), feedback={}, comment="Clear and honest.")
    intern = login(make_client(), klass.intern)
    assert "has not released a grade yet" in intern.get(f"/c/{klass.course_id}/grade").get_data(as_text=True)
    assert "Clear and honest." not in intern.get(f"/c/{klass.course_id}/grade").get_data(as_text=True)

    login(client, klass.advisor)
    url = f"/c/{klass.course_id}/grades/{klass.intern.user_id}/release"
    response = client.post(url, data={"csrf_token": csrf_token(client.get(url).get_data(as_text=True))})
    assert response.status_code == 302
    assert klass.grade(grade_id)[0] == "released"
    delivery = klass.delivery(grade_id)
    assert delivery["state"].value == "pending" and delivery["attempts"] == 0
    assert (delivery["score_given"], delivery["score_maximum"], delivery["comment"]) == (10.0, 10.0, "Clear and honest.")
    assert delivery["next_attempt_at"] == delivery["timestamp"]  # due at once
    assert klass.events("grade.released")[0]["score"] == 10.0

    page = intern.get(f"/c/{klass.course_id}/grade").get_data(as_text=True)
    assert "10 of 10 points" in page and "Clear and honest." in page and "Accomplished" in page and "Rich" in page
    # released twice is refused
    again = client.post(url, data={"csrf_token": token_for(client, klass.course_id)})
    assert again.status_code == 409


def test_release_all_releases_complete_drafts_only(app, client, login, klass, make_member):
    from portfolio.people.models import Role

    third = make_member(Role.intern, course_id=klass.course_id, name="Chen Wei")
    complete = klass.save(chosen=("Developing", "Thin"))
    also_complete = klass.save(intern=klass.other_intern, chosen=("Beginning", "Solid"))
    incomplete = klass.save(intern=third, chosen=(None, "Solid"))
    login(client, klass.advisor)
    url = f"/c/{klass.course_id}/grades/release-all"
    page = client.get(url).get_data(as_text=True)
    assert "Chen Wei" in page and "Release 2 grades" in page
    response = client.post(url, data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "2 grades released." in body and "1 draft is incomplete and stays a draft." in body
    assert [klass.grade(g)[0] for g in (complete, also_complete, incomplete)] == ["released", "released", "draft"]
    assert klass.delivery(incomplete) is None
    assert klass.delivery(also_complete)["score_given"] == 3.5


def test_grades_page_lists_every_intern_with_state_and_lms_status(app, client, login, klass, fake_lms):
    released = klass.save(chosen=("Accomplished", "Rich"))
    klass.release(released)
    klass.save(intern=klass.other_intern, chosen=("Developing", None))
    login(client, klass.advisor)
    page = client.get(f"/c/{klass.course_id}/grades").get_data(as_text=True)
    assert "Amara Okafor" in page and "Bo Lindqvist" in page
    assert "waiting to be sent" in page and "Retry now" in page
    assert "incomplete" in page and f"/c/{klass.course_id}/interns/{klass.intern.user_id}/journal" in page
    assert "has not offered its gradebook" not in page
    fake_lms.supported = False
    page = client.get(f"/c/{klass.course_id}/grades").get_data(as_text=True)
    assert ("the LMS has not offered its gradebook for this course yet; grades are kept and sent once an "
            "instructor launches the tool from the course") in page.replace("The LMS", "the LMS")


def test_changing_a_released_grade_writes_a_strictly_newer_timestamp(klass, monkeypatch):
    from datetime import datetime, timezone

    from portfolio.grading import operations

    grade_id = klass.save(chosen=("Accomplished", "Rich"))
    frozen = datetime(2027, 6, 1, 12, 0, tzinfo=timezone.utc)
    monkeypatch.setattr(operations, "utcnow", lambda: frozen)  # the clock stands still (or runs behind)
    klass.release(grade_id)
    first = klass.delivery(grade_id)
    assert first["timestamp"] == frozen

    klass.set_delivery(grade_id, state=klass_state("synced"))
    klass.save(chosen=("Developing", "Rich"))  # score changes
    second = klass.delivery(grade_id)
    assert second["timestamp"] > first["timestamp"] and second["state"].value == "pending"
    assert second["score_given"] == 8.0

    klass.save(chosen=("Developing", "Rich"), comment="Now with a new comment.")  # comment changes
    third = klass.delivery(grade_id)
    assert third["timestamp"] > second["timestamp"] and third["comment"] == "Now with a new comment."

    klass.set_delivery(grade_id, state=klass_state("synced"))
    klass.save(chosen=("Developing", "Rich"), comment="Now with a new comment.")  # nothing changes
    assert klass.delivery(grade_id)["timestamp"] == third["timestamp"]
    assert klass.delivery(grade_id)["state"].value == "synced"

    monkeypatch.setattr(operations, "utcnow", lambda: datetime(2030, 1, 1, tzinfo=timezone.utc))
    klass.save(chosen=("Beginning", "Rich"), comment="Now with a new comment.")
    assert klass.delivery(grade_id)["timestamp"] == datetime(2030, 1, 1, tzinfo=timezone.utc)


def klass_state(value: str):
    from portfolio.grading.models import DeliveryState

    return DeliveryState(value)


def test_operations_accept_the_acting_user_as_well_as_the_membership(app, klass):
    from portfolio.grading import operations
    from portfolio.grading.models import Grade
    from portfolio.people.models import Course, User

    grade_id = klass.save(chosen=("Accomplished", "Rich"))
    with app.app_context():
        advisor = db.session.get(User, klass.advisor.user_id)
        operations.release_grade(db.session.get(Grade, grade_id), advisor)
        db.session.commit()
        assert operations.release_all(db.session.get(Course, klass.course_id), advisor) == []
    assert klass.grade(grade_id)[0] == "released"


def test_saving_through_the_page_reads_the_rubric_and_the_grade_once(app, client, login, klass):
    """The page reads the rubric and the grade to check the form; saving uses what it read."""
    login(client, klass.advisor)
    url = f"/c/{klass.course_id}/grades/{klass.intern.user_id}"
    levels = klass.levels()
    for comment in ("First draft.", "Second draft."):  # a new grade, then one that exists
        token = csrf_token(client.get(url).get_data(as_text=True))
        with statements_run(app) as statements:
            response = client.post(url, data={"csrf_token": token, "comment": comment,
                                              f"level_{klass.criteria[0]}": str(levels["Accomplished"])})
        assert response.status_code == 302
        reads = [s for s in statements if s.lstrip().startswith("SELECT")]
        assert sum(1 for s in reads if re.search(r"FROM rubric\b", s)) == 1, reads
        assert sum(1 for s in reads if re.search(r"FROM grade\b", s)) == 1, reads
