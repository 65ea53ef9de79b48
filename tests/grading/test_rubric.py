"""Editing a course's rubric: criteria with levels, validated with messages beside the
fields; reordering; a change to points or levels rescoring the grades that use them (and
sending released ones again, but not for a change of wording); copying a rubric from
another course the same advisor teaches; every change audited."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role
from tests.grading.conftest import build_rubric
from tests.journal.helpers import csrf_token, token_for


def criterion_form(title="Teamwork", description="Works with others", levels=(("Rarely", "0"), ("Often", "2"))):
    data = {"action": "save", "title": title, "description": description}
    for i, (level_title, points) in enumerate(levels):
        data.update({f"levels-{i}-title": level_title, f"levels-{i}-points": points,
                     f"levels-{i}-description": f"{level_title} described"})
    return data


def rubric_rows(app, course_id):
    """[(criterion title, position, [(level title, points)])] in the rubric's order."""
    from portfolio.grading.models import Rubric

    with app.app_context():
        rubric = db.session.scalar(sa.select(Rubric).where(Rubric.course_id == course_id))
        return [(c.title, c.position, [(level.title, float(level.points)) for level in c.levels])
                for c in rubric.criteria] if rubric else []


def test_adding_a_criterion_with_levels(app, client, login, make_member):
    advisor = make_member(Role.advisor)
    login(client, advisor)
    page = client.get(f"/c/{advisor.course_id}/rubric/criteria/new").get_data(as_text=True)
    assert page.count('class="level"') == 3  # three empty rows to start with
    response = client.post(f"/c/{advisor.course_id}/rubric/criteria/new",
                           data={"csrf_token": csrf_token(page), **criterion_form(levels=(("Rarely", "0"), ("Often", "2,5")))})
    assert response.status_code == 302
    assert rubric_rows(app, advisor.course_id) == [("Teamwork", 1, [("Rarely", 0.0), ("Often", 2.5)])]
    shown = client.get(f"/c/{advisor.course_id}/rubric").get_data(as_text=True)
    assert "Teamwork" in shown and "Maximum score: 2.5 points" in shown
    from portfolio.audit.models import AuditEvent

    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "rubric.criterion_created"))
        assert event.actor_id == advisor.user_id and event.details["levels"][1] == {"title": "Often", "points": 2.5}


def test_invalid_criteria_get_messages_beside_the_fields_and_keep_the_typing(app, client, login, make_member):
    advisor = make_member(Role.advisor)
    login(client, advisor)
    url = f"/c/{advisor.course_id}/rubric/criteria/new"
    token = csrf_token(client.get(url).get_data(as_text=True))

    response = client.post(url, data={"csrf_token": token, "action": "save", "title": "", "description": "kept text",
                                      "levels-0-title": "", "levels-0-points": ""})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a title for the criterion." in body and "A criterion needs at least one level" in body
    assert "kept text" in body

    response = client.post(url, data={"csrf_token": token, **criterion_form(levels=(("Low", "-1"), ("", "3"),
                                                                                   ("High", ""), ("Odd", "abc"),
                                                                                   ("Fine", "1.234")))})
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Points cannot be negative." in body and "Enter a title for the level." in body
    assert "Enter the points, 0 or more." in body and "Enter the points as a number" in body
    assert "Use at most two decimals." in body
    assert 'value="abc"' in body and 'value="Odd"' in body and 'aria-invalid="true"' in body
    assert rubric_rows(app, advisor.course_id) == []


def test_level_rows_are_added_moved_and_removed_without_saving(app, client, login, make_member):
    advisor = make_member(Role.advisor)
    login(client, advisor)
    url = f"/c/{advisor.course_id}/rubric/criteria/new"
    token = csrf_token(client.get(url).get_data(as_text=True))
    form = {"csrf_token": token, **criterion_form(levels=(("First", "1"), ("Second", "2"), ("Third", "3")))}

    body = client.post(url, data={**form, "action": "add_level"}).get_data(as_text=True)
    assert body.count('class="level"') == 4
    body = client.post(url, data={**form, "action": "level_up-2"}).get_data(as_text=True)
    assert re.findall(r'name="levels-\d-title" type="text" value="(\w+)"', body) == ["First", "Third", "Second"]
    body = client.post(url, data={**form, "action": "remove_level-0"}).get_data(as_text=True)
    assert re.findall(r'name="levels-\d-title" type="text" value="(\w+)"', body) == ["Second", "Third"]
    assert client.post(url, data={**form, "action": "explode"}).status_code == 400
    assert rubric_rows(app, advisor.course_id) == []

    # saving after a move keeps the new order
    moved = {"csrf_token": token, **criterion_form(levels=(("Third", "3"), ("First", "1")))}
    assert client.post(url, data=moved).status_code == 302
    assert rubric_rows(app, advisor.course_id)[0][2] == [("Third", 3.0), ("First", 1.0)]


def test_criteria_are_reordered_and_deleted(app, client, login, klass):
    login(client, klass.advisor)
    token = token_for(client, klass.course_id)
    base = f"/c/{klass.course_id}/rubric/criteria"
    assert client.post(f"{base}/{klass.criteria[1]}/move", data={"csrf_token": token, "direction": "up"}).status_code == 302
    assert [(t, p) for t, p, _ in rubric_rows(app, klass.course_id)] == [("Evidence", 1), ("Reflection", 2)]
    assert client.post(f"{base}/{klass.criteria[1]}/move", data={"csrf_token": token, "direction": "sideways"}).status_code == 400

    grade_id = klass.save(chosen=("Accomplished", "Rich"))
    page = client.get(f"{base}/{klass.criteria[1]}/delete").get_data(as_text=True)
    assert "1 grade has a level for this criterion" in page
    assert client.post(f"{base}/{klass.criteria[1]}/delete", data={"csrf_token": token}).status_code == 302
    assert [(t, p) for t, p, _ in rubric_rows(app, klass.course_id)] == [("Reflection", 1)]
    assert klass.grade(grade_id)[1:3] == (4.0, 4.0)  # rescored: Evidence's 6 points left with it
    assert klass.events("rubric.criterion_deleted")[0]["marks_removed"] == 1
    assert klass.events("grade.rescored")[0]["score_before"] == 10.0


def _edit(client, klass, criterion_id, levels, title="Reflection"):
    url = f"/c/{klass.course_id}/rubric/criteria/{criterion_id}/edit"
    page = client.get(url).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "action": "save", "title": title, "description": ""}
    ids = re.findall(r'name="levels-(\d+)-level_id" type="hidden" value="(\d*)"', page)
    by_title = {}
    for index, level_id in ids:
        found = re.search(rf'name="levels-{index}-title" type="text" value="([^"]*)"', page)
        by_title[found.group(1)] = level_id
    for i, (level_title, points) in enumerate(levels):
        data.update({f"levels-{i}-level_id": by_title.get(level_title.split("=")[0], ""),
                     f"levels-{i}-title": level_title.split("=")[-1], f"levels-{i}-points": points})
    return client.post(url, data=data)


def test_changing_wording_keeps_grades_and_their_delivery(app, client, login, klass):
    grade_id = klass.save(chosen=("Accomplished", "Rich"))
    klass.release(grade_id)
    before = klass.delivery(grade_id)
    login(client, klass.advisor)
    response = _edit(client, klass, klass.criteria[0],
                     [("Beginning=Starting", "0"), ("Developing", "2"), ("Accomplished=Mastered", "4")],
                     title="Reflective practice")
    assert response.status_code == 302
    assert rubric_rows(app, klass.course_id)[0] == ("Reflective practice", 1,
                                                    [("Starting", 0.0), ("Developing", 2.0), ("Mastered", 4.0)])
    assert klass.delivery(grade_id)["timestamp"] == before["timestamp"]
    assert klass.events("grade.rescored") == []
    assert "Mastered" in login(client, klass.intern).get(f"/c/{klass.course_id}/grade").get_data(as_text=True)


def test_changing_points_rescores_drafts_and_sends_released_grades_again(app, client, login, klass):
    draft = klass.save(intern=klass.other_intern, chosen=("Developing", "Thin"))
    released = klass.save(chosen=("Accomplished", "Rich"))
    klass.release(released)
    before = klass.delivery(released)
    login(client, klass.advisor)
    page = client.get(f"/c/{klass.course_id}/rubric/criteria/{klass.criteria[0]}/edit").get_data(as_text=True)
    assert "2 grades use this criterion." in page and "1 of them is released" in page
    response = _edit(client, klass, klass.criteria[0], [("Beginning", "0"), ("Developing", "3"), ("Accomplished", "5")])
    assert response.status_code == 302
    assert klass.grade(draft)[1:3] == (4.0, 11.0)
    assert klass.grade(released)[1:3] == (11.0, 11.0)
    after = klass.delivery(released)
    assert after["timestamp"] > before["timestamp"] and after["state"].value == "pending"
    assert (after["score_given"], after["score_maximum"]) == (11.0, 11.0)

    # a removed level leaves the grades that chose it without a level there
    response = _edit(client, klass, klass.criteria[0], [("Beginning", "0"), ("Accomplished", "5")])
    assert response.status_code == 302
    assert klass.grade(draft)[1:3] == (1.0, 11.0)
    from portfolio.grading.models import Mark

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Mark).where(Mark.level_id.is_(None))) == 1


def advise_too(app, member, course_id):
    """The same person as an advisor of another course."""
    from portfolio.people.models import Membership

    with app.app_context():
        db.session.add(Membership(user_id=member.user_id, course_id=course_id, role=Role.advisor))
        db.session.commit()


def platform_of(app, course_id):
    from portfolio.people.models import Course

    with app.app_context():
        return db.session.get(Course, course_id).platform_id


def test_copy_a_rubric_from_another_course_the_advisor_teaches(app, client, login, make_course, make_member, klass):
    target = make_course("Internship 2028", platform_id=platform_of(app, klass.course_id))
    advise_too(app, klass.advisor, target)
    elsewhere = make_course("Not mine", platform_id=platform_of(app, klass.course_id))
    build_rubric(app, elsewhere, make_member(Role.advisor, course_id=elsewhere))
    other_platform = make_course("Other LMS")
    advise_too(app, klass.advisor, other_platform)
    build_rubric(app, other_platform, make_member(Role.advisor, course_id=other_platform))

    login(client, klass.advisor)
    page = client.get(f"/c/{target}/rubric/copy").get_data(as_text=True)
    assert "Internship 2027" in page and "Not mine" not in page and "Other LMS" not in page
    token = csrf_token(page)
    for source in (elsewhere, other_platform, target, 999999):
        assert client.post(f"/c/{target}/rubric/copy", data={"csrf_token": token, "source_id": source}).status_code == 404
    response = client.post(f"/c/{target}/rubric/copy", data={"csrf_token": token, "source_id": klass.course_id})
    assert response.status_code == 302
    assert rubric_rows(app, target) == rubric_rows(app, klass.course_id)
    assert klass.events("rubric.copied")[0]["source_course_id"] == klass.course_id

    # a rubric exists now: copying again asks first, and only a confirmed copy replaces it
    client.post(f"/c/{target}/rubric/criteria/{_first_criterion(app, target)}/delete", data={"csrf_token": token})
    assert len(rubric_rows(app, target)) == 1
    asked = client.post(f"/c/{target}/rubric/copy", data={"csrf_token": token, "source_id": klass.course_id})
    assert asked.status_code == 200 and "Replace the rubric" in asked.get_data(as_text=True)
    assert len(rubric_rows(app, target)) == 1
    replaced = client.post(f"/c/{target}/rubric/copy", data={"csrf_token": token, "source_id": klass.course_id,
                                                              "confirm": "replace"})
    assert replaced.status_code == 302 and rubric_rows(app, target) == rubric_rows(app, klass.course_id)


def _first_criterion(app, course_id):
    from portfolio.grading.models import Criterion, Rubric

    with app.app_context():
        return db.session.scalar(sa.select(Criterion.id).join(Rubric).where(Rubric.course_id == course_id)
                                 .order_by(Criterion.position))


def test_a_rubric_with_grades_is_never_replaced_by_a_copy(app, client, login, make_course, klass):
    source = make_course("Internship 2026", platform_id=platform_of(app, klass.course_id))
    advise_too(app, klass.advisor, source)
    build_rubric(app, source, _member(app, klass.advisor, source),
                 criteria=[("Only one", [("Yes", "1")])])
    klass.save(chosen=("Accomplished", "Rich"))
    login(client, klass.advisor)
    token = token_for(client, klass.course_id)
    asked = client.post(f"/c/{klass.course_id}/rubric/copy", data={"csrf_token": token, "source_id": source})
    assert "cannot be replaced" in asked.get_data(as_text=True)
    refused = client.post(f"/c/{klass.course_id}/rubric/copy", data={"csrf_token": token, "source_id": source,
                                                                     "confirm": "replace"})
    assert refused.status_code == 409
    assert [t for t, _p, _l in rubric_rows(app, klass.course_id)] == ["Reflection", "Evidence"]


def _member(app, member, course_id):
    from portfolio.people.models import Membership
    from tests.conftest import Member

    with app.app_context():
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == member.user_id,
                                                                   Membership.course_id == course_id))
        return Member(member.user_id, course_id, membership.id, membership.role)


def test_operations_refuse_a_broken_rubric(app, klass):
    from decimal import Decimal

    import pytest

    from portfolio.grading import operations
    from portfolio.grading.operations import InvalidRubric, LevelData
    from portfolio.people.models import Course, Membership

    with app.app_context():
        course = db.session.get(Course, klass.course_id)
        by = db.session.get(Membership, klass.advisor.membership_id)
        for title, levels in (("", [LevelData("A", Decimal(1))]), ("T", []), ("T", [LevelData("A", Decimal(-1))]),
                              ("T", [LevelData(" ", Decimal(1))])):
            with pytest.raises(InvalidRubric):
                operations.save_criterion(course, None, title=title, levels=levels, by=by)
        intern = db.session.get(Membership, klass.intern.membership_id)
        from portfolio.errors import NotPermitted

        with pytest.raises(NotPermitted):
            operations.save_criterion(course, None, title="T", levels=[LevelData("A", Decimal(1))], by=intern)
