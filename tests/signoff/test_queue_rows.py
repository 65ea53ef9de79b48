"""The review queue reads plain rows (signoff/queries.py): each week's rows and content hash
must be exactly what the entry itself gives, for a decision compares the two; and the
queue shows evidence as the evidence panel shows a week nobody may edit."""

from __future__ import annotations

import re
from datetime import date

import sqlalchemy as sa
from flask import render_template

from portfolio.db import db
from portfolio.evidence.models import Evidence
from portfolio.journal.models import Entry, EntryState
from portfolio.people.models import Membership, Role
from portfolio.signoff import operations, queries


def add_evidence(app, entry_id: int, name: str, thumbnail: str | None = None, sha: str = "a") -> None:
    with app.app_context():
        db.session.add(Evidence(entry_id=entry_id, original_name=name, stored_name=f"s{entry_id}{sha}",
                                content_type="image/png" if thumbnail else "application/pdf", size=2048,
                                sha256=sha * 64, thumbnail_name=thumbnail))
        db.session.commit()


def membership_of(member) -> Membership:
    return db.session.scalar(sa.select(Membership).where(
        Membership.course_id == member.course_id, Membership.user_id == member.user_id))


def waiting_weeks_as(member):
    return queries.waiting_weeks(membership_of(member))


def test_each_week_has_the_rows_and_content_hash_of_its_entry(app, team, make_objective, make_entry, make_member):
    # Objectives whose framework order is not the order of their codes: the page shows the
    # framework's order, the hash sorts the codes.
    late = make_objective(team.course_id, code="ZZ9", title="Zest")
    early = make_objective(team.course_id, code="AA1", title="Accuracy")
    rich = make_entry(team.intern, week_start=date(2027, 3, 8), state=EntryState.submitted, revision=2,
                      reflection='Café — 学习 "quoted" <b>bold</b>\n\n* a list',
                      tasks=[("Ran the survey", "7.25", [early, late, team.objective]),
                             ("Read papers", "0.5", []),
                             ("Wrote the report", "12", [late])])
    add_evidence(app, rich, "photo Ünïcode.png", thumbnail="t-photo", sha="b")
    add_evidence(app, rich, "notes.pdf", sha="c")
    bare = make_entry(team.intern, week_start=date(2027, 3, 15), state=EntryState.submitted, tasks=[])
    plain = team.submitted_entry(week=date(2027, 3, 1))
    other = make_member(Role.intern, course_id=team.course_id, name="Other Intern")
    theirs = team.submitted_entry(week=date(2027, 3, 1), intern=other)
    make_entry(team.intern, week_start=date(2027, 3, 22), state=EntryState.draft)  # not waiting

    with app.test_request_context():
        weeks = waiting_weeks_as(team.advisor)
        assert sorted(w.id for w in weeks) == sorted([rich, bare, plain, theirs])
        for week in weeks:
            entry = db.session.get(Entry, week.id)
            assert week.content_hash == operations.content_hash(entry)
            assert week.intern.id == entry.intern_id and week.intern.display_name == entry.intern.display_name
            assert (week.week_start, week.revision, week.state, week.reflection_html, week.submitted_at) == (
                entry.week_start, entry.revision, entry.state, entry.reflection_html, entry.submitted_at)
            assert [(t.position, t.description, t.hours, [(o.code, o.title) for o in t.objectives])
                    for t in week.tasks] == [(t.position, t.description, t.hours, [(o.code, o.title) for o in t.objectives])
                                             for t in entry.tasks]
            assert [(e.id, e.original_name, e.size, e.thumbnail_name) for e in week.evidence] == [
                (e.id, e.original_name, e.size, e.thumbnail_name) for e in entry.evidence]
            assert week.hours == entry.hours
        by_id = {w.id: w for w in weeks}
        assert [o.code for o in by_id[rich].tasks[0].objectives] == ["COM", "ZZ9", "AA1"]
        assert by_id[bare].tasks == [] and by_id[bare].evidence == []


def test_a_change_to_anything_shown_changes_the_hash(app, team, make_objective):
    entry_id = team.submitted_entry()
    add_evidence(app, entry_id, "report.pdf")

    def shown_hash():
        with app.test_request_context():
            (week,) = waiting_weeks_as(team.advisor)
            assert week.content_hash == operations.content_hash(db.session.get(Entry, entry_id))
            return week.content_hash

    seen = {shown_hash()}
    extra = make_objective(team.course_id, code="ADD", title="Added")
    from portfolio.journal.models import Task, task_objective

    changes = [
        lambda: sa.update(Task).where(Task.entry_id == entry_id, Task.position == 0).values(hours="7.75"),
        lambda: sa.update(Entry).where(Entry.id == entry_id).values(reflection="Another week."),
        lambda: sa.update(Evidence).where(Evidence.entry_id == entry_id).values(sha256="f" * 64),
        lambda: task_objective.insert().values(
            task_id=sa.select(Task.id).where(Task.entry_id == entry_id, Task.position == 1).scalar_subquery(),
            objective_id=extra),
    ]
    for change in changes:
        with app.app_context():
            db.session.execute(change())
            db.session.commit()
        seen.add(shown_hash())
    assert len(seen) == len(changes) + 1


def test_a_supervisor_reads_only_their_interns_and_sees_every_intern_named(app, team, make_member, make_placement):
    second = make_member(Role.intern, course_id=team.course_id, name="Bruno Silva")
    make_placement(second, start=date(2027, 3, 1), end=date(2027, 5, 28))
    stranger = make_member(Role.intern, course_id=team.course_id, name="Someone Else")
    mine = team.submitted_entry()
    team.submitted_entry(intern=stranger)
    team.invite()
    client, _ = team.sign_in(team.invite(intern=second))  # the same supervisor for both interns

    page = client.get(f"/c/{team.course_id}/review").get_data(as_text=True)
    assert f"entries/{mine}/decide" in page and "Someone Else" not in page
    assert "Amara Okafor" in page and "Bruno Silva" in page  # Bruno has no waiting week, and is named

    with app.app_context():
        db.session.execute(sa.update(Entry).where(Entry.id == mine).values(state=EntryState.approved))
        db.session.commit()
    page = client.get(f"/c/{team.course_id}/review").get_data(as_text=True)
    assert "Nothing waits for you" in page
    assert "Amara Okafor" in page and "Bruno Silva" in page


def evidence_section(page: str, entry_id: int) -> str:
    found = re.search(rf'<section class="evidence" aria-labelledby="evidence-{entry_id}-title.*?</section>', page, re.S)
    assert found, "no evidence section"
    return re.sub(r"\s+", " ", found.group(0))


def test_the_queue_shows_evidence_as_the_evidence_panel_does(app, team, login, make_client):
    with_files = team.submitted_entry(week=date(2027, 3, 1))
    add_evidence(app, with_files, "site <photo>.png", thumbnail="t-site", sha="d")
    add_evidence(app, with_files, "minutes & notes.pdf", sha="e")
    without = team.submitted_entry(week=date(2027, 3, 8))
    client = login(make_client(), team.advisor)
    page = client.get(f"/c/{team.course_id}/review").get_data(as_text=True)

    for entry_id in (with_files, without):
        with app.test_request_context(f"/c/{team.course_id}/review"):
            membership = membership_of(team.advisor)
            entry = db.session.get(Entry, entry_id)
            assert not entry.can_edit(membership)
            panel = render_template("evidence/_panel.html", entry=entry, membership=membership,
                                    course=membership.course, evidence_in_list=True)
        assert evidence_section(page, entry_id) == evidence_section(panel, entry_id)
    assert "Preview of site &lt;photo&gt;.png" in page and "minutes &amp; notes.pdf" in page


def test_an_intern_supervised_twice_lists_each_week_once(app, team):
    """Two current supervisions of the same intern by the same person (an invitation and a
    mentor launch, or two invitations that crossed): each waiting week still comes once."""
    from portfolio.signoff.models import Supervision

    entry_id = team.submitted_entry()
    team.invite()
    with app.app_context():
        first = db.session.scalar(sa.select(Supervision).where(Supervision.intern_id == team.intern.user_id))
        db.session.add(Supervision(course_id=first.course_id, intern_id=first.intern_id,
                                   supervisor_id=first.supervisor_id, source="mentor"))
        db.session.commit()
        supervisor = db.session.scalar(sa.select(Membership).where(
            Membership.course_id == team.course_id, Membership.user_id == first.supervisor_id))
        weeks, interns = queries.review_queue(supervisor)
    assert [w.id for w in weeks] == [entry_id]
    assert [i.id for i in interns] == [team.intern.user_id]
