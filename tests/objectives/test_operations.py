"""The framework's rules, called directly: who may change it, unique codes, order,
retiring instead of deleting, copying within a platform, imports, and the audit trail."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portfolio.audit.models import AuditEvent
from portfolio.errors import DomainError, InvalidTransition, NotPermitted
from portfolio.objectives import operations
from portfolio.objectives.importers import ImportRow
from portfolio.objectives.models import Objective
from portfolio.people.models import Course, Membership, Role


@pytest.fixture
def advisor(make_member):
    return make_member(Role.advisor)


def membership(session, member) -> Membership:
    return session.get(Membership, member.membership_id)


def framework(session, course_id) -> list[tuple[str, int]]:
    rows = session.scalars(sa.select(Objective).where(Objective.course_id == course_id).order_by(Objective.position))
    return [(o.code, o.position) for o in rows]


def events(session) -> list[AuditEvent]:
    """The framework's audit events (the factories' own, such as platform.registered, left out)."""
    return list(session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action.startswith("objective.")).order_by(AuditEvent.id)))


def actions(session) -> list[str]:
    return [e.action for e in events(session)]


def test_an_advisor_creates_objectives_at_the_end_with_an_audit_event(db_session, advisor, make_objective):
    make_objective(advisor.course_id, code="A.1")
    by = membership(db_session, advisor)
    objective = operations.create_objective(by, code="A.2", title="Writes reports", area="Writing", target=4)
    assert (objective.position, objective.area, objective.description) == (2, "Writing", "")
    [event] = events(db_session)
    assert (event.action, event.actor_id, event.actor_role, event.subject_id, event.via, event.details) == (
        "objective.created", advisor.user_id, "advisor", objective.id, "web", {"code": "A.2"})


def test_codes_are_unique_within_a_course_only(db_session, advisor, make_member, make_objective):
    make_objective(advisor.course_id, code="A.1")
    other = make_member(Role.advisor)
    make_objective(other.course_id, code="B.1")
    with pytest.raises(operations.CodeTaken):
        operations.create_objective(membership(db_session, advisor), code="A.1", title="Again")
    operations.create_objective(membership(db_session, advisor), code="B.1", title="Fine here")
    assert actions(db_session) == ["objective.created"]


@pytest.mark.parametrize("role", [Role.intern, Role.supervisor])
def test_only_advisors_and_admins_change_the_framework(db_session, make_member, make_objective, role):
    member = make_member(role)
    objective = db_session.get(Objective, make_objective(member.course_id))
    by = membership(db_session, member)
    with pytest.raises(NotPermitted):
        operations.create_objective(by, code="X", title="X")
    with pytest.raises(NotPermitted):
        operations.retire_objective(objective, by)
    admin = membership(db_session, make_member(Role.admin, course_id=member.course_id))
    operations.retire_objective(objective, admin)


def test_an_advisor_of_another_course_cannot_touch_this_one(db_session, advisor, make_member, make_objective):
    other = make_member(Role.advisor)
    objective = db_session.get(Objective, make_objective(other.course_id))
    with pytest.raises(NotPermitted):
        operations.update_objective(objective, membership(db_session, advisor), title="Mine now")


def test_editing_records_what_changed_and_keeps_codes_unique(db_session, advisor, make_objective):
    make_objective(advisor.course_id, code="A.1")
    objective = db_session.get(Objective, make_objective(advisor.course_id, code="A.2", title="Old"))
    by = membership(db_session, advisor)
    with pytest.raises(operations.CodeTaken):
        operations.update_objective(objective, by, code="A.1", title="New")
    assert objective.title == "Old"
    assert operations.update_objective(objective, by, code="A.2", title="New", area="", target=3) is True
    assert operations.update_objective(objective, by, code="A.2", title="New") is False
    [event] = events(db_session)
    assert (event.action, event.details["changed"]) == ("objective.updated", ["title"])


def test_moving_swaps_with_the_neighbour_of_the_same_area_and_renumbers(db_session, advisor, make_objective):
    ids = {code: make_objective(advisor.course_id, code=code, area=area)
           for code, area in [("A.1", "A"), ("B.1", "B"), ("A.2", "A"), ("A.3", "A")]}
    by = membership(db_session, advisor)
    assert framework(db_session, advisor.course_id) == [("A.1", 1), ("B.1", 2), ("A.2", 3), ("A.3", 4)]  # factory
    assert operations.move_objective(db_session.get(Objective, ids["A.2"]), by, "up") is True
    assert framework(db_session, advisor.course_id) == [("A.2", 1), ("B.1", 2), ("A.1", 3), ("A.3", 4)]
    assert operations.move_objective(db_session.get(Objective, ids["A.3"]), by, "down") is False  # last of A
    assert operations.move_objective(db_session.get(Objective, ids["B.1"]), by, "up") is False  # alone in B
    assert actions(db_session) == ["objective.moved"]
    with pytest.raises(ValueError):
        operations.move_objective(db_session.get(Objective, ids["A.1"]), by, "sideways")


def test_retire_and_reactivate(db_session, advisor, make_objective):
    objective = db_session.get(Objective, make_objective(advisor.course_id))
    by = membership(db_session, advisor)
    operations.retire_objective(objective, by)
    assert objective.is_retired
    with pytest.raises(InvalidTransition):
        operations.retire_objective(objective, by)
    operations.reactivate_objective(objective, by)
    assert not objective.is_retired
    with pytest.raises(InvalidTransition):
        operations.reactivate_objective(objective, by)
    assert actions(db_session) == ["objective.retired", "objective.reactivated"]


def test_a_used_objective_is_never_deleted(db_session, advisor, make_member, make_objective, make_entry):
    used = make_objective(advisor.course_id, code="A.1")
    unused = make_objective(advisor.course_id, code="A.2")
    last = make_objective(advisor.course_id, code="A.3")
    intern = make_member(Role.intern, course_id=advisor.course_id)
    make_entry(intern, tasks=[("Met the client", "2", [used]), ("Wrote the minutes", "1", [used])])
    by = membership(db_session, advisor)
    with pytest.raises(DomainError) as refused:
        operations.delete_objective(db_session.get(Objective, used), by)
    assert refused.value.code == 409
    assert str(refused.value.description) == "This objective is used by 2 tasks; retire it instead."
    operations.delete_objective(db_session.get(Objective, unused), by)
    assert framework(db_session, advisor.course_id) == [("A.1", 1), ("A.3", 2)]
    assert db_session.get(Objective, last).position == 2
    [event] = events(db_session)
    assert (event.action, event.subject_id, event.details["code"]) == ("objective.deleted", unused, "A.2")


def test_copying_takes_active_objectives_and_skips_codes_already_here(db_session, advisor, make_course,
                                                                     make_objective):
    platform_id = db_session.get(Course, advisor.course_id).platform_id
    source = make_course("Internship 2026", platform_id=platform_id)
    make_objective(source, code="A.1", title="Theirs", area="Area A", target=5)
    theirs = make_objective(source, code="A.2", title="Also theirs")
    make_objective(source, code="A.3", retired=True)
    make_objective(advisor.course_id, code="A.1", title="Ours")
    copied, skipped = operations.copy_objectives(db_session.get(Course, source), membership(db_session, advisor))
    assert [(o.code, o.title) for o in copied] == [("A.2", "Also theirs")]
    assert framework(db_session, advisor.course_id)[-1][0] == "A.2"
    assert skipped == ["A.1"]
    [event] = events(db_session)
    assert (event.action, event.details) == (
        "objective.created", {"code": "A.2", "copied_from": theirs, "source_course_id": source})


def test_copying_from_another_platform_is_refused(db_session, advisor, make_course, make_objective):
    foreign = make_course("Elsewhere")
    make_objective(foreign, code="Z.1")
    with pytest.raises(NotPermitted):
        operations.copy_objectives(db_session.get(Course, foreign), membership(db_session, advisor))


def test_import_updates_known_codes_and_appends_new_ones(db_session, advisor, make_objective):
    make_objective(advisor.course_id, code="A.1", title="Old", target=7, area="Keep")
    retired = make_objective(advisor.course_id, code="A.2", retired=True)
    rows = [
        ImportRow("A.1", {"title": "New title"}),  # absent fields are kept
        ImportRow("A.2", {"title": "Back", "retired": False}),
        ImportRow("B.1", {"title": "Added", "area": "B", "retired": True}),
    ]
    created, updated = operations.import_objectives(rows, membership(db_session, advisor), source="csv")
    assert (created, updated) == (1, 2)
    a1, a2, b1 = db_session.scalars(sa.select(Objective).order_by(Objective.position))
    assert (a1.title, a1.target, a1.area) == ("New title", 7, "Keep")
    assert a2.id == retired and not a2.is_retired
    assert (b1.code, b1.target, b1.area, b1.position, b1.is_retired) == ("B.1", 3, "B", 3, True)
    assert actions(db_session) == ["objective.updated", "objective.updated", "objective.reactivated",
                                   "objective.created", "objective.retired"]


def test_a_code_taken_between_check_and_insert_is_a_field_error_not_a_crash(app, make_member, monkeypatch):
    import pytest

    from portfolio.db import db
    from portfolio.objectives import operations
    from portfolio.objectives.models import Objective
    from portfolio.people.models import Membership, Role

    advisor = make_member(Role.advisor)
    with app.app_context():
        membership = db.session.get(Membership, advisor.membership_id)
        operations.create_objective(membership, code="RACE", title="first")
        db.session.commit()
        monkeypatch.setattr(operations, "_code_taken", lambda *args, **kwargs: False)  # the other writer was faster
        with pytest.raises(operations.CodeTaken):
            operations.create_objective(membership, code="RACE", title="second")
        db.session.rollback()
        assert db.session.query(Objective).filter_by(code="RACE").count() == 1


def test_an_objective_created_in_a_transaction_that_rolls_back_is_not_kept(app, advisor, make_objective):
    """Its insert runs in a savepoint after nothing but reads: on SQLite too, the savepoint
    belongs to the transaction and goes with it."""
    make_objective(advisor.course_id, code="A.1")
    from portfolio.db import db

    with app.app_context():
        stamp = db.session.get(Course, advisor.course_id).objectives_stamp
        operations.create_objective(membership(db.session, advisor), code="A.2", title="Never saved")
        db.session.flush()
        db.session.rollback()
        assert framework(db.session, advisor.course_id) == [("A.1", 1)]
        assert db.session.scalar(sa.select(Course.objectives_stamp).where(Course.id == advisor.course_id)) == stamp
        assert not db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "objective.created")).all()
        db.session.remove()
