"""The verify page says yes for the original and no for anything else, without telling
more than the cover; an unchanged portfolio is answered from the cache at once, and any
change to what the PDF shows makes a new one."""

from __future__ import annotations

import hashlib
import io
import re
import time
import zipfile

import pytest

from portfolio.db import db
from portfolio.journal.models import Entry, EntryState
from tests.export import builders
from tests.export.conftest import export_now
from tests.journal.helpers import csrf_token


@pytest.fixture
def issued(app, build):
    from portfolio.export.models import Export

    built = build(builders.standard_portfolio)
    _job, pdf = export_now(app, built.course_id, built.intern_id)
    with app.app_context():
        code = db.session.scalar(db.select(Export.verification_code))
    return built, pdf, code


def check(client, code, **data):
    page = client.get(f"/verify/{code}")
    assert page.status_code == 200
    response = client.post(f"/verify/{code}", data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data},
                           content_type="multipart/form-data")
    return response.status_code, re.sub(r"\s+", " ", response.get_data(as_text=True))


def test_the_code_on_the_cover_verifies_the_original(client, issued):
    _built, pdf, code = issued
    assert code in builders.pdftotext_page(pdf, 1)
    status, page = check(client, code, document=(io.BytesIO(pdf), "portfolio.pdf"))
    assert status == 200
    assert "Matches:" in page
    assert "portfolio of Amara Okafor, Internship 2027, issued" in page
    # Nothing beyond the cover: no reflection, no hours, no grade.
    for private in ("Approvedreflection", "Prepared the workshop", "remarkable", "Example GmbH"):
        assert private not in page


def test_a_modified_file_does_not_match(client, issued):
    _built, pdf, code = issued
    modified = pdf.replace(b"Amara", b"Amari", 1) if b"Amara" in pdf else pdf[:-10] + b"0" * 10
    assert modified != pdf
    status, page = check(client, code, document=(io.BytesIO(modified), "portfolio.pdf"))
    assert status == 200 and "Does not match." in page and "Amara Okafor" not in page
    status, page = check(client, code, document=(io.BytesIO(pdf + b"\n%%"), "portfolio.pdf"))
    assert "Does not match." in page


def test_the_checksum_can_be_pasted_and_codes_are_forgiving(client, issued):
    _built, pdf, code = issued
    digest = hashlib.sha256(pdf).hexdigest()
    assert "Matches:" in check(client, code, sha256=digest.upper())[1]
    assert "Matches:" in check(client, code.lower().replace("-", ""), sha256=digest)[1]
    assert "Does not match." in check(client, "ZZZZ-ZZZZ-ZZZZ-ZZZZ", sha256=digest)[1]  # an unknown code


def test_bad_input_is_explained_next_to_the_field(client, issued):
    _built, _pdf, code = issued
    status, page = check(client, code, sha256="not-a-checksum")
    assert status == 422 and "64 characters" in page and 'value="not-a-checksum"' in page
    status, page = check(client, code)
    assert status == 422 and "Choose the PDF file, or paste its SHA-256 checksum." in page


def test_unchanged_portfolio_is_answered_from_the_cache_at_once(app, issued):
    from portfolio.export import operations
    from portfolio.export.models import Export, ExportJob, JobState, Scope
    from portfolio.people.models import Membership, User

    built, pdf, _code = issued
    with app.app_context():
        membership = db.session.scalar(db.select(Membership).where(Membership.user_id == built.intern_id))
        started = time.perf_counter()
        job = operations.request_export(membership, db.session.get(User, built.intern_id), Scope.everything)
        elapsed = time.perf_counter() - started
        db.session.commit()
        assert job.state is JobState.done and job.progress == 100
        assert operations.file_path(job.export.file_name).read_bytes() == pdf
        assert elapsed < 1.0  # bench/pdf.py measures the real figure
        assert db.session.scalar(db.select(db.func.count()).select_from(Export)) == 1

        # Any change to what the PDF shows: a new job that must render.
        entry = db.session.scalar(db.select(Entry).where(Entry.state == EntryState.submitted))
        entry.tasks[0].hours = entry.tasks[0].hours + 1
        db.session.commit()
        job = operations.request_export(membership, db.session.get(User, built.intern_id), Scope.everything)
        assert job.state is JobState.queued
        db.session.rollback()
        assert db.session.scalar(db.select(db.func.count()).select_from(ExportJob)) == 2  # the first, the cached


@pytest.mark.parametrize("change", ["reflection", "evidence", "decision", "grade", "locale", "scope", "supervisor"])
def test_every_change_to_what_the_pdf_shows_changes_the_hash(app, build, change):
    from portfolio.export import render
    from portfolio.export.models import Scope
    from portfolio.grading.models import Grade, GradeState
    from portfolio.people.models import Course, User
    from portfolio.signoff.models import Decision, Supervision

    built = build(builders.standard_portfolio, grade=False)
    with app.app_context():
        course, intern = db.session.get(Course, built.course_id), db.session.get(User, built.intern_id)

        def key(scope=Scope.everything):
            document, _ = render.build_document(course, intern, scope)
            return render.content_hash(document, render.pdf_locale(intern))

        before = key()
        assert key() == before  # stable
        entry = db.session.scalar(db.select(Entry).where(Entry.state == EntryState.submitted))
        if change == "reflection":
            entry.reflection_html = "<p>Changed</p>"
        elif change == "evidence":
            builders.add_evidence(entry, "more.txt", b"more", "text/plain")
        elif change == "decision":
            db.session.scalar(db.select(Decision).limit(1)).decided_by_name = "Someone Else"
        elif change == "grade":
            builders.release_grade(course, intern, db.session.get(User, built.advisor_id))
        elif change == "locale":
            intern.preferred_locale = "de"
        elif change == "supervisor":
            db.session.scalar(db.select(Supervision)).ended_at = builders.utcnow()
        db.session.flush()
        db.session.expire_all()
        after = key(Scope.approved) if change == "scope" else key()
        assert after != before
        if change == "grade":  # a draft grade is not shown, so it changes nothing
            grade = db.session.scalar(db.select(Grade))
            grade.state = GradeState.draft
            db.session.flush()
            assert key() == before
        db.session.rollback()


def test_cohort_zip_holds_every_interns_pdf_and_reuses_them(app, build, make_client, login):
    from portfolio.export import operations
    from portfolio.export.models import Export, ExportJob, JobState, Scope
    from portfolio.people.models import Membership

    built = build(builders.standard_portfolio, grade=False)
    build(builders.course_with_people, intern_name="Second Intern", course_id=built.course_id)
    with app.app_context():
        advisor = db.session.scalar(db.select(Membership).where(Membership.user_id == built.advisor_id))
        job = operations.request_cohort_export(advisor, Scope.everything)
        db.session.commit()
        operations.start(job)
        job_id = job.id
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job.state is JobState.done, job.message
        with zipfile.ZipFile(operations.file_path(job.file_name)) as archive:
            names = sorted(archive.namelist())
            assert names == ["Amara-Okafor.pdf", "Second-Intern.pdf"]
            assert "Second Intern" in builders.pdftotext(archive.read("Second-Intern.pdf"))
        assert db.session.scalar(db.select(db.func.count()).select_from(Export)) == 2
        first_file = job.file_name
        advisor = db.session.scalar(db.select(Membership).where(Membership.user_id == built.advisor_id))
        again = operations.request_cohort_export(advisor, Scope.everything)
        db.session.commit()
        started = time.perf_counter()
        operations.start(again)
        assert time.perf_counter() - started < 2
        again_id = again.id
    with app.app_context():
        assert db.session.get(ExportJob, again_id).file_name == first_file
        assert db.session.scalar(db.select(db.func.count()).select_from(Export)) == 2
    client = login(make_client(), builders_member(advisor_id=built.advisor_id, course_id=built.course_id))
    response = client.get(f"/c/{built.course_id}/exports/{job_id}/download")
    assert response.status_code == 200 and response.mimetype == "application/zip"


def builders_member(advisor_id: int, course_id: int):
    from portfolio.people.models import Role
    from tests.conftest import Member

    return Member(advisor_id, course_id, 0, Role.advisor)
