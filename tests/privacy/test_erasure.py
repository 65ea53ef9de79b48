"""Erasure of one person leaves no trace of their name, email or words anywhere in the
database or the storage; what others need stays under a pseudonym."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role
from tests.journal.helpers import csrf_token
from tests.privacy.conftest import traces


def _erase(app, user_id):
    from portfolio.people.models import User
    from portfolio.privacy.operations import erase_person

    with app.app_context():
        counts = erase_person(db.session.get(User, user_id), via="cli")
        db.session.commit()
        return counts


def test_the_world_really_holds_the_tokens_before(app, world):
    """The scan finds them before: so finding none after means something."""
    found = traces(app, world.intern_tokens + world.supervisor_tokens)
    places = {f.split(":")[0] for f in found}
    for place in ("user.name", "user.email", "entry.reflection", "task.description", "placement.host_organisation",
                  "evidence.original_name", "grade.comment", "grade_mark.feedback", "score_delivery.comment",
                  "outbox_message.body_text", "audit_event.details", "decision.comment", "decision.decided_by_name",
                  "entry.decision_comment"):
        assert place in places, place
    assert any(f.startswith("file evidence/") for f in found)


def test_erasing_an_intern_leaves_no_trace(app, world):
    from portfolio.audit.models import AuditEvent
    from portfolio.grading.models import Grade
    from portfolio.journal.models import Entry
    from portfolio.people.models import Membership, User
    from portfolio.signoff.models import Decision

    counts = _erase(app, world.intern.user_id)
    assert counts["entries"] == 2 and counts["placements"] == 1
    assert traces(app, world.intern_tokens) == []
    with app.app_context():
        user = db.session.get(User, world.intern.user_id)
        assert user.name == f"Erased person #{user.id}" and user.email is None and user.lti_sub.startswith("erased-")
        # The grade stays for the gradebook, under the pseudonym, without the words about them.
        grade = db.session.scalar(sa.select(Grade).where(Grade.intern_id == user.id))
        assert grade.score == 4 and grade.comment == "" and grade.marks[0].feedback == ""
        assert db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id)).role is Role.intern
        assert db.session.scalar(sa.select(sa.func.count(Entry.id)).where(Entry.intern_id == user.id)) == 0
        # Others' data is untouched: the other intern's week and the supervisor's decision on it.
        assert db.session.scalar(sa.select(sa.func.count(Entry.id)).where(
            Entry.intern_id == world.other_intern.user_id)) == 1
        assert db.session.scalar(sa.select(sa.func.count(Decision.id))) == 1
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.erased"))
        assert event.about_id == user.id and event.details["entries"] == 2
    # The supervisor is still findable (their own erasure is separate).
    assert traces(app, world.supervisor_tokens[:1])


def test_erasing_a_supervisor_keeps_their_decisions_under_a_pseudonym(app, world):
    from portfolio.journal.models import Entry, EntryState
    from portfolio.signoff.models import Decision, SignInLink, Supervision

    _erase(app, world.supervisor_id)
    assert traces(app, world.supervisor_tokens) == []
    with app.app_context():
        decisions = db.session.scalars(sa.select(Decision).order_by(Decision.id)).all()
        assert len(decisions) == 2
        assert {d.decided_by_name for d in decisions} == {f"Erased person #{world.supervisor_id}"}
        assert {d.comment for d in decisions} == {"[erased]"}
        entry = db.session.get(Entry, world.submitted_entry_id)
        assert entry.state is EntryState.changes_requested and entry.decided_by_id == world.supervisor_id
        assert entry.decision_comment == "[erased]"
        assert all(s.ended_at is not None for s in db.session.scalars(
            sa.select(Supervision).where(Supervision.supervisor_id == world.supervisor_id)))
        assert db.session.scalar(sa.select(sa.func.count(SignInLink.id))) == 0
    # The intern's own words are still there: erasing one person erases nobody else.
    assert traces(app, world.intern_tokens[2:])


def test_erasing_both_leaves_no_trace_of_either(app, world):
    _erase(app, world.intern.user_id)
    _erase(app, world.supervisor_id)
    assert traces(app, world.intern_tokens + world.supervisor_tokens) == []


def test_a_relaunch_after_erasure_makes_a_new_person(app, world):
    from portfolio.people.models import User

    with app.app_context():
        sub = db.session.get(User, world.intern.user_id).lti_sub
    _erase(app, world.intern.user_id)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.lti_sub == sub)) is None


def test_erasing_twice_is_refused(app, world, runner):
    _erase(app, world.intern.user_id)
    result = runner.invoke(args=["privacy", "erase-person", str(world.intern.user_id), "--yes"])
    assert result.exit_code == 1 and "erased already" in result.output


def test_the_cli_erases(app, world, runner):
    result = runner.invoke(args=["privacy", "erase-person", str(world.supervisor_id), "--yes"])
    assert result.exit_code == 0, result.output
    assert traces(app, world.supervisor_tokens) == []


def test_an_admin_erases_from_the_person_page_after_confirming(app, world, make_client, login):
    client = login(make_client(), world.admin)
    url = f"/c/{world.course_id}/admin/people/{world.intern.user_id}"
    page = client.get(url)
    assert page.status_code == 200 and world.intern_tokens[0] in page.get_data(as_text=True)
    token = csrf_token(page.get_data(as_text=True))
    refused = client.post(url + "/erase", data={"csrf_token": token, "confirm": "12345678"})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert f"Type {world.intern.user_id} to confirm" in body and 'value="12345678"' in body
    assert traces(app, world.intern_tokens[:1])  # nothing happened
    done = client.post(url + "/erase", data={"csrf_token": token, "confirm": str(world.intern.user_id)})
    assert done.status_code == 302
    assert traces(app, world.intern_tokens) == []
    assert "This person was erased" in client.get(url).get_data(as_text=True)


@pytest.mark.parametrize("who,status", [("foreign_admin", 404), ("advisor", 403), ("intern", 403),
                                        ("supervisor", 403)])
def test_only_the_platforms_admin_may_erase(app, world, make_client, make_member, login, who, status):
    from tests.conftest import Member

    people = {"advisor": world.advisor, "intern": world.other_intern, "foreign_admin": make_member(Role.admin),
              "supervisor": Member(world.supervisor_id, world.course_id, world.supervisor_membership_id,
                                   Role.supervisor)}
    member = people[who]
    client = login(make_client(), member)
    token = csrf_token(client.get(f"/c/{member.course_id}/privacy").get_data(as_text=True))
    response = client.post(f"/c/{member.course_id}/admin/people/{world.intern.user_id}/erase",
                           data={"csrf_token": token, "confirm": str(world.intern.user_id)})
    assert response.status_code == status
    assert traces(app, world.intern_tokens[:1])


def test_an_admin_does_not_erase_someone_another_platform_answers_for(app, world, make_member, make_client, login):
    from portfolio.people.models import Membership

    elsewhere = make_member(Role.advisor)
    with app.app_context():
        db.session.add(Membership(user_id=world.supervisor_id, course_id=elsewhere.course_id, role=Role.supervisor))
        db.session.commit()
    client = login(make_client(), world.admin)
    url = f"/c/{world.course_id}/admin/people/{world.supervisor_id}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    response = client.post(url + "/erase", data={"csrf_token": token, "confirm": str(world.supervisor_id)})
    assert response.status_code == 409 and "command line" in response.get_data(as_text=True)
    assert traces(app, world.supervisor_tokens[:1])
