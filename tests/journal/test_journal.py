"""Writing, submitting, deciding and revising weeks, as people do it through the pages."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from portfolio.audit.models import AuditEvent
from portfolio.db import db
from portfolio.journal.models import Entry, EntryState
from portfolio.people.models import Role
from tests.journal.helpers import csrf_token, hash_of, shown_hash, task_fields, token_for

WEEK = "2027-03-01"


@pytest.fixture
def course(make_member, make_objective, make_placement):
    intern = make_member(Role.intern, name="Amara Okafor")
    advisor = make_member(Role.advisor, course_id=intern.course_id)
    objectives = [make_objective(intern.course_id, code="COM", title="Communicate"),
                  make_objective(intern.course_id, code="TEAM", title="Work in a team")]
    make_placement(intern, start=date(2027, 3, 1), end=date(2027, 5, 28), timezone="Europe/Berlin")
    return intern, advisor, objectives


def _loaded():
    from sqlalchemy.orm import selectinload

    from portfolio.journal.models import Task

    return selectinload(Entry.tasks).selectinload(Task.objectives)


def entry(app, entry_id) -> Entry:
    with app.app_context():
        return db.session.scalar(sa.select(Entry).where(Entry.id == entry_id).options(_loaded()))


def newest(app, intern) -> Entry | None:
    with app.app_context():
        return db.session.scalar(sa.select(Entry).where(Entry.intern_id == intern.user_id).options(_loaded())
                                 .order_by(Entry.week_start, Entry.revision.desc()).limit(1))


def write_week(client, intern, objectives, action="save", **extra):
    token = token_for(client, intern.course_id)
    data = {"csrf_token": token, "reflection": "I learned to *present* to clients.", "action": action,
            **task_fields(("Prepared the client workshop", "7.5", [objectives[0]]),
                          ("Pair-programmed the export", "4", objectives))}
    data.update(extra)
    return client.post(f"/c/{intern.course_id}/journal/weeks/{WEEK}", data=data, follow_redirects=True)


def test_an_intern_writes_and_submits_a_week(app, client, login, course):
    intern, _, objectives = course
    login(client, intern)
    page = client.get(f"/c/{intern.course_id}/journal/weeks/{WEEK}")
    assert page.status_code == 200 and "Communicate" in page.get_data(as_text=True)

    saved = write_week(client, intern, objectives)
    assert saved.status_code == 200 and "Your draft is saved." in saved.get_data(as_text=True)
    draft = newest(app, intern)
    assert draft.state is EntryState.draft and len(draft.tasks) == 2 and str(draft.hours) == "11.50"
    assert "<em>present</em>" in draft.reflection_html

    submitted = write_week(client, intern, objectives, action="submit")
    assert submitted.status_code == 200 and "submitted for sign-off" in submitted.get_data(as_text=True)
    assert newest(app, intern).state is EntryState.submitted
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("entry.%"))
                                     .order_by(AuditEvent.id)).all()
    assert actions == ["entry.started", "entry.saved", "entry.saved", "entry.submitted"]


def test_submitting_an_incomplete_week_keeps_everything_typed(app, client, login, course):
    intern, _, objectives = course
    login(client, intern)
    token = token_for(client, intern.course_id)
    response = client.post(f"/c/{intern.course_id}/journal/weeks/{WEEK}", data={
        "csrf_token": token, "reflection": "Half a thought about Ω and 日本", "action": "submit",
        **task_fields(("Met the ☃ team", "", []), ("", "2.5", [objectives[1]]))})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Half a thought about Ω and 日本" in page and "Met the ☃ team" in page and 'value="2.5"' in page
    assert "Enter the hours." in page and "Choose at least one objective." in page and "Describe the task." in page
    assert 'role="alert"' in page and 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 0  # nothing half-saved


@pytest.mark.parametrize("hours, message", [("abc", "as a number"), ("-1", "Between 0 and 80"), ("81", "Between 0 and 80"),
                                            ("1.3", "quarter hours"), ("NaN", "as a number")])
def test_bad_hours_get_a_message_next_to_the_field(client, login, course, hours, message):
    intern, _, objectives = course
    login(client, intern)
    response = write_week(client, intern, objectives, **{"tasks-0-hours": hours})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'value="{hours}"' in page


def test_autosave_keeps_an_incomplete_draft_and_a_new_session_finds_it(app, client, make_client, login, course):
    intern, _, objectives = course
    login(client, intern)
    token = token_for(client, intern.course_id)
    response = client.post(f"/c/{intern.course_id}/journal/weeks/{WEEK}/autosave", data={
        "csrf_token": token, "reflection": "Typed before the session ended", **task_fields(("Half a task", "", []))})
    assert response.status_code == 200 and response.get_json()["saved_at"]
    draft = newest(app, intern)
    assert draft.state is EntryState.draft and draft.autosaved_at is not None
    assert [t.description for t in draft.tasks] == ["Half a task"]

    later = login(make_client(), intern)  # the session expired; the intern launched again
    page = later.get(f"/c/{intern.course_id}/journal/weeks/{WEEK}", follow_redirects=True).get_data(as_text=True)
    assert "Typed before the session ended" in page and "Half a task" in page


def test_autosave_without_a_session_is_refused_and_changes_nothing(app, client, make_client, login, course):
    intern, _, _ = course
    login(client, intern)
    token = token_for(client, intern.course_id)
    anonymous = make_client()
    response = anonymous.post(f"/c/{intern.course_id}/journal/weeks/{WEEK}/autosave",
                              data={"csrf_token": token, "reflection": "x"})
    assert response.status_code in (400, 401)
    assert newest(app, intern) is None


def test_autosave_of_a_submitted_week_is_a_conflict(app, client, login, course, make_entry):
    intern, _, objectives = course
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.submitted)
    login(client, intern)
    response = client.post(f"/c/{intern.course_id}/journal/weeks/{WEEK}/autosave",
                           data={"csrf_token": token_for(client, intern.course_id), "reflection": "late change"})
    assert response.status_code == 409
    assert newest(app, intern).reflection == "What I learned this week."


def test_add_and_remove_task_rows_keep_what_is_typed(client, login, course):
    intern, _, objectives = course
    login(client, intern)
    token = token_for(client, intern.course_id)
    base = {"csrf_token": token, "reflection": "Kept", **task_fields(("First", "1", []))}
    added = client.post(f"/c/{intern.course_id}/journal/weeks/{WEEK}", data={**base, "action": "add_task"})
    page = added.get_data(as_text=True)
    assert added.status_code == 200 and 'name="tasks-1-description"' in page and "Kept" in page and "First" in page
    removed = client.post(f"/c/{intern.course_id}/journal/weeks/{WEEK}", data={
        **base, **task_fields(("First", "1", []), ("Second", "2", [])), "action": "remove_task-0"})
    page = removed.get_data(as_text=True)
    assert "Second" in page and ">First<" not in page


def test_approve_then_locked_then_revise_keeps_the_approved_revision(app, client, make_client, login, course):
    intern, advisor, objectives = course
    login(client, intern)
    write_week(client, intern, objectives, action="submit")
    submitted = newest(app, intern)

    staff = login(make_client(), advisor)
    show = staff.get(f"/c/{intern.course_id}/entries/{submitted.id}").get_data(as_text=True)
    decided = staff.post(f"/c/{intern.course_id}/entries/{submitted.id}/decide",
                         data={"csrf_token": csrf_token(show), "decision": "approve", "content_hash": shown_hash(show)})
    assert decided.status_code == 302
    assert entry(app, submitted.id).state is EntryState.approved

    # locked: no edit, no autosave, no submit
    assert client.post(f"/c/{intern.course_id}/entries/{submitted.id}/edit",
                       data={"csrf_token": token_for(client, intern.course_id), "reflection": "x"}).status_code == 403
    page = client.get(f"/c/{intern.course_id}/entries/{submitted.id}").get_data(as_text=True)
    revised = client.post(f"/c/{intern.course_id}/entries/{submitted.id}/revise", data={"csrf_token": csrf_token(page)})
    assert revised.status_code == 302
    revision = newest(app, intern)
    assert (revision.revision, revision.state) == (2, EntryState.draft)
    assert [t.description for t in revision.tasks] == [t.description for t in entry(app, submitted.id).tasks]

    client.post(f"/c/{intern.course_id}/entries/{revision.id}/edit", data={
        "csrf_token": token_for(client, intern.course_id), "reflection": "Corrected hours", "action": "submit",
        **task_fields(("Prepared the client workshop", "6", [objectives[0]]))})
    assert entry(app, revision.id).state is EntryState.submitted
    old = entry(app, submitted.id)
    assert old.state is EntryState.approved and old.reflection == "I learned to *present* to clients."
    old_page = client.get(f"/c/{intern.course_id}/entries/{submitted.id}").get_data(as_text=True)
    assert "earlier revision" in old_page and "present" in old_page


def test_send_back_needs_a_comment_then_resubmit(app, client, make_client, login, course):
    intern, advisor, objectives = course
    login(client, intern)
    write_week(client, intern, objectives, action="submit")
    submitted = newest(app, intern)
    staff = login(make_client(), advisor)
    show = staff.get(f"/c/{intern.course_id}/entries/{submitted.id}").get_data(as_text=True)
    token, hashed = csrf_token(show), shown_hash(show)
    no_comment = staff.post(f"/c/{intern.course_id}/entries/{submitted.id}/decide",
                            data={"csrf_token": token, "decision": "request_changes", "comment": "  ", "content_hash": hashed})
    assert no_comment.status_code == 409 and "comment is required" in no_comment.get_data(as_text=True)
    assert entry(app, submitted.id).state is EntryState.submitted
    sent_back = staff.post(f"/c/{intern.course_id}/entries/{submitted.id}/decide",
                           data={"csrf_token": token, "decision": "request_changes", "comment": "Add the hours of Friday",
                                 "content_hash": hashed})
    assert sent_back.status_code == 302
    assert entry(app, submitted.id).state is EntryState.changes_requested
    edit_page = client.get(f"/c/{intern.course_id}/entries/{submitted.id}/edit").get_data(as_text=True)
    assert "Add the hours of Friday" in edit_page
    write_week(client, intern, objectives, action="submit")
    again = entry(app, submitted.id)
    assert again.state is EntryState.submitted and again.revision == 1


@pytest.mark.parametrize("state, action, allowed", [
    (EntryState.draft, "submit", True), (EntryState.changes_requested, "submit", True),
    (EntryState.submitted, "submit", False), (EntryState.approved, "submit", False),
    (EntryState.approved, "revise", True), (EntryState.draft, "revise", False),
    (EntryState.submitted, "revise", False), (EntryState.changes_requested, "revise", False),
])
def test_intern_transitions(app, client, login, course, make_entry, state, action, allowed):
    intern, _, objectives = course
    entry_id = make_entry(intern, state=state, tasks=[("Did it", "3", [objectives[0]])])
    login(client, intern)
    response = client.post(f"/c/{intern.course_id}/entries/{entry_id}/{action}",
                           data={"csrf_token": token_for(client, intern.course_id)})
    assert response.status_code == (302 if allowed else 403)
    if not allowed:
        assert entry(app, entry_id).state is state


@pytest.mark.parametrize("state, decision, allowed", [
    (EntryState.submitted, "approve", True), (EntryState.submitted, "request_changes", True),
    (EntryState.draft, "approve", False), (EntryState.approved, "approve", False),
    (EntryState.changes_requested, "approve", False), (EntryState.approved, "request_changes", False),
])
def test_decision_transitions(app, client, login, course, make_entry, state, decision, allowed):
    intern, advisor, objectives = course
    entry_id = make_entry(intern, state=state, tasks=[("Did it", "3", [objectives[0]])])
    login(client, advisor)
    response = client.post(f"/c/{intern.course_id}/entries/{entry_id}/decide",
                           data={"csrf_token": token_for(client, intern.course_id), "decision": decision,
                                 "comment": "why", "content_hash": hash_of(app, entry_id)})
    assert response.status_code == (302 if allowed else 409)


def test_an_intern_cannot_decide_their_own_week(app, client, login, course, make_entry):
    intern, _, objectives = course
    entry_id = make_entry(intern, state=EntryState.submitted, tasks=[("Did it", "3", [objectives[0]])])
    login(client, intern)
    response = client.post(f"/c/{intern.course_id}/entries/{entry_id}/decide",
                           data={"csrf_token": token_for(client, intern.course_id), "decision": "approve"})
    assert response.status_code == 403
    assert entry(app, entry_id).state is EntryState.submitted


def test_submitting_an_incomplete_draft_directly_is_refused_with_reasons(app, client, login, course, make_entry):
    intern, _, _ = course
    entry_id = make_entry(intern, reflection="", tasks=[])
    login(client, intern)
    response = client.post(f"/c/{intern.course_id}/entries/{entry_id}/submit",
                           data={"csrf_token": token_for(client, intern.course_id)})
    assert response.status_code == 409
    assert "Add at least one task." in response.get_data(as_text=True)


def test_a_week_outside_the_placement_cannot_be_started(app, client, login, course):
    intern, _, objectives = course
    login(client, intern)
    token = token_for(client, intern.course_id)
    response = client.post(f"/c/{intern.course_id}/journal/weeks/2027-09-06", data={
        "csrf_token": token, "reflection": "x", "action": "save", **task_fields(("a", "1", []))})
    assert response.status_code == 409 and "outside your placement" in response.get_data(as_text=True)
    assert client.get(f"/c/{intern.course_id}/journal/weeks/2027-03-02").status_code == 404  # not a Monday


def test_objectives_of_another_course_are_not_linked(app, client, login, course, make_member, make_objective):
    intern, _, objectives = course
    foreign = make_objective(make_member(Role.advisor).course_id, code="X")
    login(client, intern)
    response = write_week(client, intern, objectives, **{"tasks-0-objectives": [str(foreign)]})
    assert response.status_code == 422  # not a valid choice
    assert "Not a valid choice" in response.get_data(as_text=True) or "not a valid choice" in response.get_data(as_text=True).lower()


@pytest.mark.parametrize("attack", [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    '<p onclick="alert(1)" style="background:url(javascript:alert(1))">hi</p>',
])
def test_reflections_are_sanitised_everywhere(app, client, make_client, login, course, attack):
    intern, advisor, objectives = course
    login(client, intern)
    write_week(client, intern, objectives, action="submit", reflection=f"Before {attack} after")
    submitted = newest(app, intern)
    assert submitted.reflection_html.count("Before") == 1
    for html in (submitted.reflection_html,
                 client.get(f"/c/{intern.course_id}/entries/{submitted.id}").get_data(as_text=True),
                 login(make_client(), advisor).get(f"/c/{intern.course_id}/entries/{submitted.id}").get_data(as_text=True)):
        lowered = html.lower()
        assert "<script>alert" not in lowered and "onerror" not in lowered and "onclick" not in lowered
        assert 'href="javascript:' not in lowered and "url(javascript" not in lowered


def test_the_home_shows_timeline_hours_and_coverage(app, client, login, course, make_entry):
    intern, _, objectives = course
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.approved,
               tasks=[("a", "8", [objectives[0]]), ("b", "4", objectives)])
    make_entry(intern, week_start=date(2027, 3, 8), state=EntryState.submitted, tasks=[("c", "5", [objectives[0]])])
    make_entry(intern, week_start=date(2027, 3, 15), state=EntryState.changes_requested, tasks=[("d", "1", [objectives[1]])])
    login(client, intern)
    page = client.get(f"/c/{intern.course_id}/journal").get_data(as_text=True)
    assert page.count('class="week ') == 13  # 1 March to 28 May 2027
    assert "✓</span> approved" in page and "⏳</span> submitted" in page and "↩</span> sent back" in page
    assert "<strong>18</strong> hours logged" in page
    assert "2/3" in page and "1/3" in page  # COM: 2 approved tasks of 3; TEAM: 1 of 3


def test_progress_counts_missing_weeks_in_the_interns_time_zone(app, make_member, make_placement, make_entry):
    from portfolio.journal import progress
    from portfolio.journal.queries import entries_of_intern
    from portfolio.placements.models import Placement

    intern = make_member(Role.intern)
    make_placement(intern, start=date(2027, 3, 1), end=date(2027, 3, 28), timezone="Pacific/Auckland")
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.submitted)
    with app.app_context():
        placement = db.session.scalar(sa.select(Placement))
        entries = list(db.session.scalars(entries_of_intern(intern.course_id, intern.user_id)))
        # Sunday 14 March 20:00 UTC is Monday morning in Auckland: the week of 8 March is over.
        summary = progress.compute(placement, entries, [], now=datetime(2027, 3, 14, 20, 0, tzinfo=timezone.utc))
        assert [w.status.value for w in summary.weeks] == ["submitted", "missing", "open", "open"]
        assert [w.is_current for w in summary.weeks] == [False, False, True, False]
        assert str(summary.hours_expected_to_date) == "114.00"  # 3 weeks × 38 h
