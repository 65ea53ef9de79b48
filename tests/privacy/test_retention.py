"""Retention: a course past its end plus the days to keep is archived (PDF and data zip
per intern, listed for the admin) strictly before its personal data is deleted; the dry
run lists what would go and changes nothing."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from portfolio.db import db
from tests.journal.helpers import token_for
from tests.privacy.conftest import traces

AFTER = "2027-07-01"  # the world's placements end on 2027-05-28


def _set(app, course_id, keep_days=30, end=None):
    from portfolio.people.models import Course
    from portfolio.privacy.operations import set_retention

    with app.app_context():
        set_retention(db.session.get(Course, course_id), keep_days=keep_days, course_end_date=end, via="cli")
        db.session.commit()


def snapshot(app) -> tuple[dict, list]:
    """Row counts of every table and every stored file with its size."""
    with app.app_context():
        counts = {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t))
                  for t in db.metadata.sorted_tables}
        root = Path(app.config["STORAGE_DIR"])
        files = sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*") if p.is_file())
    return counts, files


def test_the_course_end_is_the_latest_placement_unless_an_admin_sets_it(app, world):
    from portfolio.privacy.operations import plan_retention

    _set(app, world.course_id, keep_days=30)
    with app.app_context():
        plan, = plan_retention(date(2027, 6, 27))
        assert plan.end == date(2027, 5, 28) and plan.purge_after == date(2027, 6, 27) and plan.due
        assert plan.interns == 2 and plan.entries == 3 and plan.files == 1
        assert not plan_retention(date(2027, 6, 26))[0].due
    _set(app, world.course_id, keep_days=30, end=date(2027, 9, 30))
    with app.app_context():
        assert plan_retention(date(2027, 10, 29))[0].end == date(2027, 9, 30)
        assert not plan_retention(date(2027, 10, 29))[0].due


def test_the_dry_run_lists_and_changes_nothing(app, world, runner):
    _set(app, world.course_id)
    before = snapshot(app)
    result = runner.invoke(args=["privacy", "retention", "run", "--dry-run", "--today", AFTER])
    assert result.exit_code == 0, result.output
    assert f"course {world.course_id}" in result.output and "would archive and delete" in result.output
    assert "2 interns, 3 weeks, 1 files" in result.output
    assert snapshot(app) == before


def test_the_dry_run_page_changes_nothing(app, world, make_client, login):
    _set(app, world.course_id, keep_days=0, end=date(2025, 1, 31))
    client = login(make_client(), world.admin)
    before = snapshot(app)
    page = client.get(f"/c/{world.course_id}/admin/retention")
    assert page.status_code == 200 and "archive, then delete" in page.get_data(as_text=True)
    assert snapshot(app) == before


def test_a_run_archives_then_deletes(app, world, runner):
    from portfolio.journal.models import Entry
    from portfolio.people.models import Membership, User
    from portfolio.placements.models import Placement
    from portfolio.privacy.models import CourseArchive, CourseRetention
    from portfolio.privacy.operations import archive_path

    _set(app, world.course_id)
    result = runner.invoke(args=["privacy", "retention", "run", "--today", AFTER])
    assert result.exit_code == 0, result.output
    assert "archived and deleted" in result.output
    with app.app_context():
        archives = db.session.scalars(sa.select(CourseArchive).order_by(CourseArchive.id)).all()
        assert {(a.intern_ref, a.kind) for a in archives} == {
            (world.intern.user_id, "pdf"), (world.intern.user_id, "data"),
            (world.other_intern.user_id, "pdf"), (world.other_intern.user_id, "data")}
        data_zip = next(a for a in archives if a.intern_ref == world.intern.user_id and a.kind == "data")
        pdf = next(a for a in archives if a.intern_ref == world.intern.user_id and a.kind == "pdf")
        assert archive_path(pdf.file_name).read_bytes().startswith(b"%PDF")
        with zipfile.ZipFile(io.BytesIO(archive_path(data_zip.file_name).read_bytes())) as archive:
            document = json.loads(archive.read("person.json"))
            assert document["person"]["email"] == world.intern_tokens[1]  # archived as it was
            assert document["courses"] == [world.course_id] and len([e for e in document["entries"] if "tasks" in e]) == 2
            assert any(n.startswith("files/evidence/") for n in archive.namelist())
        for model in (Entry, Placement, Membership):
            assert db.session.scalar(sa.select(sa.func.count(model.id)).where(model.course_id == world.course_id)) == 0
        intern = db.session.get(User, world.intern.user_id)
        assert intern.name == f"Erased person #{intern.id}" and intern.email is None
        retention = db.session.scalar(sa.select(CourseRetention))
        assert retention.archived_at is not None and retention.purged_at is not None
        assert retention.archived_at <= retention.purged_at
    # Outside the archive, nothing of the intern is left.
    left = [t for t in traces(app, world.intern_tokens) if not t.startswith("file archives/")]
    assert left == []
    again = runner.invoke(args=["privacy", "retention", "run", "--today", AFTER])
    assert again.exit_code == 0 and "nothing is due" in again.output


def test_nothing_is_deleted_when_the_archive_fails(app, world, runner, monkeypatch):
    from portfolio.journal.models import Entry
    from portfolio.privacy import operations
    from portfolio.privacy.models import CourseArchive, CourseRetention

    _set(app, world.course_id)
    real = operations._write
    calls = []

    def failing(name, data):
        calls.append(name)
        if len(calls) == 3:  # the second intern's PDF: half the course is archived
            raise OSError("disk full")
        return real(name, data)

    monkeypatch.setattr(operations, "_write", failing)
    result = runner.invoke(args=["privacy", "retention", "run", "--today", AFTER])
    assert result.exit_code == 1 and "archive failed, nothing deleted" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 3
        assert db.session.scalar(sa.select(sa.func.count(CourseArchive.id))) == 0
        assert db.session.scalar(sa.select(CourseRetention)).purged_at is None


def test_purging_an_unarchived_course_is_refused(app, world):
    from portfolio.errors import InvalidTransition
    from portfolio.people.models import Course
    from portfolio.privacy.operations import purge_course

    _set(app, world.course_id)
    with app.app_context():
        with pytest.raises(InvalidTransition):
            purge_course(db.session.get(Course, world.course_id))


def test_people_of_other_courses_keep_those(app, world, make_course, runner):
    from portfolio.people.models import Course, Membership, Role, User

    with app.app_context():
        other = make_course("Next year", platform_id=db.session.get(Course, world.course_id).platform_id)
        db.session.add(Membership(user_id=world.advisor.user_id, course_id=other, role=Role.advisor))
        db.session.commit()
    _set(app, world.course_id)
    assert runner.invoke(args=["privacy", "retention", "run", "--today", AFTER]).exit_code == 0
    with app.app_context():
        assert db.session.get(User, world.advisor.user_id).name == "Helen Advisor"


def test_an_admin_sets_retention_and_sees_archives(app, world, make_client, login):
    client = login(make_client(), world.admin)
    url = f"/c/{world.course_id}/admin/courses/{world.course_id}"
    token = token_for(client, world.course_id)
    bad = client.post(url, data={"csrf_token": token, "keep_days": "-5", "course_end": "not a date"})
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert 'value="-5"' in body and body.count('class="error"') == 2
    assert client.post(url, data={"csrf_token": token, "keep_days": "90", "course_end": "2027-06-30"}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert 'value="90"' in page and "Nothing archived yet" in page
    assert client.post(url + "/archive", data={"csrf_token": token}).status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert page.count("data zip") == 2 and page.count("portfolio PDF") == 2
    listing = client.get(f"/c/{world.course_id}/admin/courses").get_data(as_text=True)
    assert "90 days" in listing and "archived" in listing


def test_the_admin_runs_retention_from_the_page(app, world, make_client, login):
    from portfolio.journal.models import Entry
    from portfolio.privacy.models import CourseArchive

    _set(app, world.course_id, keep_days=0, end=date(2025, 1, 31))
    client = login(make_client(), world.admin)
    token = token_for(client, world.course_id)
    response = client.post(f"/c/{world.course_id}/admin/retention/run", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CourseArchive.id))) == 4
        assert db.session.scalar(sa.select(sa.func.count(Entry.id))) == 0
    # The admin's own membership went with the course: their pages are gone too.
    assert client.get(f"/c/{world.course_id}/admin/retention").status_code == 404


def test_the_scheduler_runs_retention_daily(app, world, monkeypatch):
    """The beat schedule runs the same retention every night: archive first, then delete."""
    from celery.schedules import crontab

    from portfolio import jobs
    from portfolio.journal.models import Entry
    from portfolio.privacy.models import CourseArchive

    schedule = {entry["args"][0]: entry["schedule"] for entry in jobs.beat_schedule({}).values()}
    assert schedule["privacy.retention"] == crontab(minute=0, hour=4)
    _set(app, world.course_id, keep_days=0, end=date(2026, 1, 1))  # ended long ago
    monkeypatch.setitem(app.config, "JOBS_MODE", "inline")
    with app.app_context():
        jobs.enqueue("privacy.retention")
    with app.app_context():
        kinds = set(db.session.scalars(sa.select(CourseArchive.kind)))
        assert kinds == {"pdf", "data"}
        assert db.session.scalar(sa.select(sa.func.count(Entry.id)).where(Entry.course_id == world.course_id)) == 0
