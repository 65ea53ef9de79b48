"""Every export route × the intern, another intern, the advisor, the intern's supervisor,
another intern's supervisor, another course's advisor, and nobody signed in."""

from __future__ import annotations

import pytest

from portfolio.db import db
from portfolio.people.models import Role
from tests.conftest import Member
from tests.export import builders
from tests.journal.helpers import assert_answer, request_as

WHO = ["intern", "other_intern", "advisor", "supervisor", "other_supervisor", "foreign_advisor", "anonymous"]
R = {"foreign_advisor": 404, "anonymous": 401}

ROUTES = [
    ("GET", "/c/{course}/export",
     {"intern": 302, "other_intern": 302, "advisor": 200, "supervisor": 200, "other_supervisor": 200, **R}),
    ("GET", "/c/{course}/interns/{intern}/export",
     {"intern": 200, "other_intern": 403, "advisor": 200, "supervisor": 200, "other_supervisor": 403, **R}),
    ("POST", "/c/{course}/interns/{intern}/export",
     {"intern": 302, "other_intern": 403, "advisor": 302, "supervisor": 302, "other_supervisor": 403, **R}),
    ("GET", "/c/{course}/interns/{advisor_id}/export",  # not an intern: nothing to export
     {"intern": 404, "other_intern": 404, "advisor": 404, "supervisor": 404, "other_supervisor": 404, **R}),
    ("POST", "/c/{course}/export/cohort",
     {"intern": 403, "other_intern": 403, "advisor": 302, "supervisor": 403, "other_supervisor": 403, **R}),
    # A job belongs to whoever asked for it (here the intern).
    ("GET", "/c/{course}/exports/{job}",
     {"intern": 200, "other_intern": 403, "advisor": 403, "supervisor": 403, "other_supervisor": 403, **R}),
    ("GET", "/c/{course}/exports/{job}/status",
     {"intern": 200, "other_intern": 403, "advisor": 403, "supervisor": 403, "other_supervisor": 403, **R}),
    ("GET", "/c/{course}/exports/{job}/download",
     {"intern": 200, "other_intern": 403, "advisor": 403, "supervisor": 403, "other_supervisor": 403, **R}),
    ("GET", "/c/{course}/exports/{advisor_job}/download",
     {"intern": 403, "other_intern": 403, "advisor": 200, "supervisor": 403, "other_supervisor": 403, **R}),
]


@pytest.fixture
def world(app, make_member, monkeypatch):
    """People, and one finished job each for the intern and the advisor (the file is a
    stand-in: rendering is tested elsewhere, and POSTs here only queue)."""
    from portfolio.export import operations, render
    from portfolio.export.models import Export, ExportJob, JobKind, JobState, Scope
    from portfolio.people.models import Membership
    from portfolio.signoff.models import Supervision

    monkeypatch.setattr(operations, "start", lambda job: None)
    with app.app_context():
        course, intern, supervisor, advisor = builders.course_with_people()
        _c, other_intern, other_supervisor, _a = builders.course_with_people(course_id=course.id,
                                                                              intern_name="Other Intern")
        db.session.commit()
        members = {}
        for key, user in (("intern", intern), ("other_intern", other_intern), ("advisor", advisor),
                          ("supervisor", supervisor), ("other_supervisor", other_supervisor)):
            membership = db.session.scalar(db.select(Membership).where(Membership.user_id == user.id))
            members[key] = Member(user.id, course.id, membership.id, membership.role)
        assert db.session.scalar(db.select(Supervision).where(Supervision.supervisor_id == supervisor.id)).intern_id \
            == intern.id
        folder = render.export_root()
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "access-test.pdf").write_bytes(b"%PDF-1.7 stand-in")
        export = Export(course_id=course.id, intern_id=intern.id, scope=Scope.everything, locale="en",
                        content_hash="f" * 64, verification_code="AAAA-BBBB-CCCC-DDDD", pdf_sha256="0" * 64,
                        data_sha256="0" * 64, file_name="access-test.pdf", size=17, pages=1)
        jobs = [ExportJob(course_id=course.id, requested_by_id=requester, intern_id=intern.id, kind=JobKind.portfolio,
                          scope=Scope.everything, state=JobState.done, progress=100, export=export)
                for requester in (intern.id, advisor.id)]
        db.session.add_all([export, *jobs])
        db.session.commit()
        ids = {"course": course.id, "intern": intern.id, "advisor_id": advisor.id, "job": jobs[0].id,
               "advisor_job": jobs[1].id}
    members["foreign_advisor"] = make_member(Role.advisor)
    members["anonymous"] = None
    return members, ids


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("method, path, expected", ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_access(app, make_client, login, world, who, method, path, expected):
    people, ids = world
    response = request_as(make_client, login, people, who, ids["course"], method, path.format(**ids),
                          {"scope": "everything"})
    assert_answer(response, who, method, expected)


def test_a_replaced_supervisor_loses_access_to_jobs_they_asked_for(app, make_client, login, world):
    from portfolio.export.models import ExportJob, JobKind, JobState, Scope
    from portfolio.signoff.models import Supervision

    people, ids = world
    with app.app_context():
        job = ExportJob(course_id=ids["course"], requested_by_id=people["supervisor"].user_id,
                        intern_id=ids["intern"], kind=JobKind.portfolio, scope=Scope.everything, state=JobState.done)
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    client = login(make_client(), people["supervisor"])
    assert client.get(f"/c/{ids['course']}/exports/{job_id}").status_code == 200
    with app.app_context():
        supervision = db.session.scalar(db.select(Supervision).where(
            Supervision.supervisor_id == people["supervisor"].user_id))
        supervision.ended_at = builders.utcnow()
        db.session.commit()
    assert client.get(f"/c/{ids['course']}/exports/{job_id}").status_code == 403
