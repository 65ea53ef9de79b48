"""Roster sync: people the LMS lists become users and memberships; a launch's role is
never overwritten; and the daily command syncs every course whose LMS offers a roster."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.audit.models import AuditEvent
from portfolio.db import db
from portfolio.errors import NotPermitted
from portfolio.lms import EXTENSION, DeliveryDeferred, RosterMember
from portfolio.people.models import Course, Membership, Role, User
from portfolio.people.operations import RosterSyncResult, sync_roster


def people(course_id: int) -> dict[str, tuple[str | None, str | None, Role, bool]]:
    """sub → (name, email, role in the course, ever launched)."""
    rows = db.session.execute(sa.select(User, Membership.role).join(Membership).where(
        Membership.course_id == course_id)).all()
    return {u.lti_sub: (u.name, u.email, role, u.last_seen_at is not None) for u, role in rows}


def test_sync_adds_updates_and_never_changes_a_launch_role(app, make_member):
    advisor = make_member(Role.advisor, name="Helen Schmidt", email="helen@uni.example")
    intern = make_member(Role.intern, course_id=advisor.course_id, name="Old Name", email="old@uni.example")
    with app.app_context():
        course = db.session.get(Course, advisor.course_id)
        subs = {m.user_id: db.session.get(User, m.user_id).lti_sub for m in (advisor, intern)}
        by = db.session.get(Membership, advisor.membership_id)
        result = sync_roster(course, [
            # Moodle's roster may call a non-editing teacher a Learner: the launch said advisor.
            RosterMember(subs[advisor.user_id], "Helen Schmidt", "helen@uni.example", Role.intern),
            RosterMember(subs[intern.user_id], "New Name", "new@uni.example", Role.intern),
            RosterMember("new-1", "Amara Okafor", "amara@uni.example", Role.intern),
            RosterMember("new-1", "Amara Okafor", "amara@uni.example", Role.intern),  # a page repeated
            RosterMember("new-2", None, None, Role.supervisor),
            RosterMember("gone", "Left Early", "left@uni.example", Role.intern, active=False),
            RosterMember("guest", "A Guest", "guest@uni.example", None),
        ], by=by, via="web")
        db.session.commit()
        assert result == RosterSyncResult(added=2, updated=1, unchanged=1, skipped=2)
        found = people(course.id)
        assert found[subs[advisor.user_id]][2] is Role.advisor
        assert found[subs[intern.user_id]][:3] == ("New Name", "new@uni.example", Role.intern)
        assert found["new-1"] == ("Amara Okafor", "amara@uni.example", Role.intern, False)
        assert found["new-2"] == (None, None, Role.supervisor, False)
        assert "gone" not in found and "guest" not in found
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.lti_sub == "gone")) == 0

        (event,) = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "roster.synced")).all()
        assert (event.actor_id, event.course_id, event.via) == (advisor.user_id, course.id, "web")
        assert event.details == {"added": 2, "updated": 1, "unchanged": 1, "skipped": 2}

        # Again: nothing new; a roster without name or email keeps what we know.
        again = sync_roster(course, [RosterMember("new-1", None, None, Role.advisor),
                                     RosterMember(subs[intern.user_id], "New Name", None, Role.intern)], by=None)
        assert again == RosterSyncResult(added=0, updated=0, unchanged=2, skipped=0)
        assert people(course.id)["new-1"] == ("Amara Okafor", "amara@uni.example", Role.intern, False)


def test_someone_known_from_another_course_of_the_platform_joins_this_one(app, make_course, make_member):
    elsewhere = make_member(Role.intern, name="Li Wei")
    with app.app_context():
        platform_id = db.session.get(Course, elsewhere.course_id).platform_id
    course_id = make_course(platform_id=platform_id)
    with app.app_context():
        sub = db.session.get(User, elsewhere.user_id).lti_sub
        result = sync_roster(db.session.get(Course, course_id), [RosterMember(sub, "Li Wei", None, Role.intern)],
                             by=None)
        db.session.commit()
        assert result.added == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.lti_sub == sub)) == 1
        assert people(course_id)[sub][2] is Role.intern


def test_only_advisors_and_admins_sync(app, make_member):
    intern = make_member(Role.intern)
    with app.app_context():
        course = db.session.get(Course, intern.course_id)
        with pytest.raises(NotPermitted):
            sync_roster(course, [RosterMember("x", "X", None, Role.intern)],
                        by=db.session.get(Membership, intern.membership_id))


class PerCourseLMS:
    """Supports the roster of some courses; for one, the LMS is down."""

    def __init__(self, rosters: dict[int, list[RosterMember]], down: set[int]):
        self.rosters, self.down = rosters, down

    def roster_supported(self, course):
        return course.id in self.rosters or course.id in self.down

    def fetch_roster(self, course):
        if course.id in self.down:
            raise DeliveryDeferred("503 Service Unavailable")
        return self.rosters[course.id]


def test_the_daily_command_syncs_every_course_with_a_roster(app, runner, make_course, make_member, monkeypatch):
    synced, unsupported, down = make_course(title="Synced"), make_course(title="No roster"), make_course(title="Down")
    make_member(Role.advisor, course_id=synced)
    monkeypatch.setitem(app.extensions, EXTENSION, PerCourseLMS(
        {synced: [RosterMember("r-1", "Ana", "ana@uni.example", Role.intern),
                  RosterMember("r-2", "Ben", None, Role.intern, active=False)]}, down={down}))
    result = runner.invoke(args=["people", "sync-rosters"])
    assert result.exit_code == 1  # one course failed: the scheduler should hear of it
    assert f"course {synced} (Synced): added 1, updated 0, unchanged 0, skipped 1" in result.output
    assert f"course {down} (Down): not synced: 503 Service Unavailable" in result.output
    assert f"course {unsupported}" not in result.output
    with app.app_context():
        assert "r-1" in people(synced) and "r-2" not in people(synced)
        assert people(down) == {} and people(unsupported) == {}
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "roster.synced"))
        assert (event.course_id, event.via, event.actor_id) == (synced, "cli", None)


def test_the_daily_command_passes_over_courses_whose_launches_offered_no_roster(app, runner, make_course):
    make_course()
    result = runner.invoke(args=["people", "sync-rosters"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
