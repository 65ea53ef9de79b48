from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role


@dataclass
class World:
    """A course where an intern and their supervisor left a unique mark in every place
    the tool keeps personal data. Tokens are unique per test: storage is shared."""

    course_id: int
    intern: object
    supervisor_id: int
    supervisor_membership_id: int
    advisor: object
    admin: object
    other_intern: object
    intern_tokens: list[str]
    supervisor_tokens: list[str]
    submitted_entry_id: int
    draft_entry_id: int


@pytest.fixture
def world(app, make_member, make_objective, make_placement, make_entry):
    from portfolio.audit.operations import record_event
    from portfolio.db import utcnow
    from portfolio.evidence import operations as evidence_ops
    from portfolio.export import operations as export_ops
    from portfolio.export.models import Scope
    from portfolio.grading.models import Criterion, Grade, GradeState, Level, Mark, Rubric, ScoreDelivery
    from portfolio.journal.models import Entry, EntryState
    from portfolio.notify.models import OutboxMessage
    from portfolio.people.models import Membership, User
    from portfolio.privacy.operations import acknowledge_notice
    from portfolio.signoff import operations as signoff_ops
    from portfolio.signoff.models import DecisionKind

    tok = secrets.token_hex(4)
    surname, text = f"Quibbleworth{tok}", f"XYLOPHRAX{tok}"
    email = f"zq{tok}@tokens.example"
    sup_surname, sup_email, sup_text = f"Vexmoor{tok}", f"bv{tok}@tokens.example", f"GRIMWALD{tok}"

    intern = make_member(Role.intern, name=f"Zoltarina {surname}", email=email)
    course_id = intern.course_id
    advisor = make_member(Role.advisor, course_id=course_id, name="Helen Advisor")
    admin = make_member(Role.admin, course_id=course_id, name="Ada Admin")
    other_intern = make_member(Role.intern, course_id=course_id, name="Other Intern")
    objective = make_objective(course_id, code="COM")
    make_placement(intern, host=f"{text} Labs", start=date(2027, 3, 1), end=date(2027, 5, 28))
    make_placement(other_intern, start=date(2027, 3, 1), end=date(2027, 5, 28))
    submitted = make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.submitted,
                           reflection=f"I met {text} at work.", tasks=[(f"Did {text}", "5", [objective])])
    draft = make_entry(intern, week_start=date(2027, 3, 8), reflection=f"Draft about {text}.",
                       tasks=[(f"Planned {text}", "3", [objective])])
    other_entry = make_entry(other_intern, week_start=date(2027, 3, 1), state=EntryState.submitted,
                             tasks=[("Other work", "4", [objective])])

    with app.app_context():
        def member(m):
            return db.session.get(Membership, m.membership_id)

        intern_m, advisor_m = member(intern), member(advisor)
        db.session.execute(sa.update(Entry).where(Entry.id.in_([submitted, other_entry])).values(submissions=1))
        invitation = signoff_ops.invite_supervisor(intern_m, name=f"Brunhilde {sup_surname}", email=sup_email,
                                                   locale="en", by=advisor_m)
        supervisor = invitation.supervision.supervisor
        db.session.flush()
        supervisor_m = db.session.scalar(sa.select(Membership).where(Membership.user_id == supervisor.id))
        # The supervisor also supervises the other intern: their decision there must stay.
        db.session.add(type(invitation.supervision)(course_id=course_id, intern_id=other_intern.user_id,
                                                    supervisor_id=supervisor.id, source="invitation"))
        db.session.commit()
        supervisor_m = db.session.get(Membership, supervisor_m.id)
        for entry_id, comment in ((submitted, f"Please add {text}. {sup_text}"), (other_entry, f"Good. {sup_text}")):
            entry = db.session.get(Entry, entry_id)
            signoff_ops.decide(entry, DecisionKind.changes_requested, by=supervisor_m,
                               shown_hash=signoff_ops.content_hash(entry), comment=comment)
        db.session.commit()

        evidence_ops.add_evidence(db.session.get(Entry, draft), f"Notes by {text}\n".encode(), f"{surname}.txt",
                                  by=member(intern))
        rubric = Rubric(course_id=course_id, title="Rubric")
        criterion = Criterion(rubric=rubric, title="Reflection")
        level = Level(criterion=criterion, title="Good", points=4)
        grade = Grade(course_id=course_id, intern_id=intern.user_id, state=GradeState.released, score=4,
                      score_maximum=4, comment=f"Well done {surname}, {text}", graded_by_id=advisor.user_id,
                      released_by_id=advisor.user_id)
        grade.marks.append(Mark(criterion=criterion, level=level, feedback=f"{text} was great"))
        grade.delivery = ScoreDelivery(course_id=course_id, score_given=4, score_maximum=4,
                                       comment=f"Well done {surname}", timestamp=utcnow())
        db.session.add_all([rubric, grade])
        db.session.add(OutboxMessage(dedupe_key=f"reminder-{tok}", course_id=course_id, recipient_id=intern.user_id,
                                     recipient=email, subject=f"Hello Zoltarina {surname}",
                                     body_text=f"Your week {text}", body_html=f"<p>Your week {text}</p>"))
        db.session.add(OutboxMessage(dedupe_key=f"to-advisor-{tok}", course_id=course_id,
                                     recipient_id=advisor.user_id, recipient="advisor@example.test",
                                     subject="A week is waiting", body_text=f"Zoltarina {surname} submitted a week",
                                     body_html=f"<p>Zoltarina {surname} submitted a week</p>"))
        intern_user = db.session.get(User, intern.user_id)
        record_event("placement.changed", actor=intern_user, course=intern_m.course, about=intern_user, via="web",
                     changes={"host_organisation": ["Old", f"{text} Labs"], "city": ["Berlin", "Bonn"]})
        record_event("note.about_people", actor=advisor_m.user, course=intern_m.course, via="web",
                     text=f"Spoke with {surname} and {sup_surname}")
        tickets = db.metadata.tables["lti_launch_ticket"]
        db.session.execute(tickets.insert().values(token_hash=secrets.token_hex(32), user_id=intern.user_id,
                                                   course_id=course_id, target="/", created_at=utcnow(),
                                                   expires_at=utcnow()))
        export_ops.request_export(member(intern), intern_user, Scope.everything)
        acknowledge_notice(intern_user, member(intern))
        acknowledge_notice(supervisor, supervisor_m)
        db.session.commit()
        return World(course_id=course_id, intern=intern, supervisor_id=supervisor.id,
                     supervisor_membership_id=supervisor_m.id, advisor=advisor, admin=admin,
                     other_intern=other_intern, intern_tokens=[surname, email, text],
                     supervisor_tokens=[sup_surname, sup_email, sup_text],
                     submitted_entry_id=submitted, draft_entry_id=draft)


def traces(app, tokens: list[str]) -> list[str]:
    """Where any token still appears: every text-like column of every table, every stored file."""
    from pathlib import Path

    found = []
    needles = [t.casefold() for t in tokens]
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if value is None or isinstance(value, (int, float, bool)):
                        continue
                    text = str(value).casefold()
                    for needle in needles:
                        if needle in text:
                            found.append(f"{table.name}.{column}: {needle}")
        root = Path(app.config["STORAGE_DIR"])
        for path in root.rglob("*"):
            if path.is_file():
                data = path.read_bytes().lower()
                for needle in needles:
                    if needle.encode() in data:
                        found.append(f"file {path.relative_to(root)}: {needle}")
    return found
