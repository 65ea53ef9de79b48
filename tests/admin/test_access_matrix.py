"""Every admin route × the platform's admin, an admin of another platform, the advisor,
the intern and nobody signed in. Another platform's admin reaches their own pages, which
show nothing of ours, and any row of ours by its id is a 404."""

from __future__ import annotations

import pytest

from portfolio.db import db
from portfolio.people.models import Role
from tests.journal.helpers import token_for

WHO = ["admin", "foreign_admin", "advisor", "intern", "anonymous"]
DENIED = {"foreign_admin": 404, "advisor": 403, "intern": 403, "anonymous": 401}

ROUTES = [
    ("GET", "/c/{course}/admin", 200),
    ("GET", "/c/{course}/admin/courses", 200),
    ("GET", "/c/{course}/admin/courses/{sibling}", 200),
    ("POST", "/c/{course}/admin/courses/{sibling}", 302),
    ("POST", "/c/{course}/admin/courses/{sibling}/archive", 302),
    ("GET", "/c/{course}/admin/courses/{sibling}/archives/{archive}", 200),
    ("GET", "/c/{course}/admin/retention", 200),
    ("POST", "/c/{course}/admin/retention/run", 302),
    ("GET", "/c/{course}/admin/outbox", 200),
    ("POST", "/c/{course}/admin/outbox/mails/{mail}/retry", 302),
    ("POST", "/c/{course}/admin/outbox/scores/{score}/retry", 302),
    ("GET", "/c/{course}/admin/audit", 200),
    ("GET", "/c/{course}/admin/people", 200),
    ("GET", "/c/{course}/admin/people/{intern}", 200),
    ("GET", "/c/{course}/admin/platforms", 200),
    ("POST", "/c/{course}/admin/keys/rotate", 302),
]


@pytest.fixture
def site(app, make_course, make_member, make_placement):
    from datetime import date

    from portfolio.grading.models import DeliveryState, Grade, GradeState, ScoreDelivery
    from portfolio.notify.models import OutboxMessage, OutboxState
    from portfolio.people.models import Course
    from portfolio.privacy.models import CourseArchive, CourseRetention

    admin = make_member(Role.admin)
    with app.app_context():
        platform_id = db.session.get(Course, admin.course_id).platform_id
    sibling = make_course("Sibling course", platform_id=platform_id)
    intern = make_member(Role.intern, course_id=sibling)
    make_placement(intern, start=date(2030, 1, 7), end=date(2030, 3, 29))
    people = {"admin": admin, "foreign_admin": make_member(Role.admin),
              "advisor": make_member(Role.advisor, course_id=admin.course_id),
              "intern": make_member(Role.intern, course_id=admin.course_id), "anonymous": None}
    with app.app_context():
        db.session.add(CourseRetention(course_id=sibling, keep_days=30))
        mail = OutboxMessage(dedupe_key="m1", course_id=sibling, recipient_id=intern.user_id, recipient="i@x.test",
                             subject="S", body_text="b", body_html="<p>b</p>", state=OutboxState.failed, attempts=10)
        grade = Grade(course_id=sibling, intern_id=intern.user_id, state=GradeState.released, score=1,
                      score_maximum=2)
        from portfolio.db import utcnow

        grade.delivery = ScoreDelivery(course_id=sibling, score_given=1, score_maximum=2, timestamp=utcnow(),
                                       state=DeliveryState.failed, attempts=5)
        archive = CourseArchive(course_id=sibling, intern_ref=intern.user_id, kind="data",
                                file_name=f"course-{sibling}/intern-{intern.user_id}-data.zip", size=2, sha256="0" * 64)
        db.session.add_all([mail, grade, archive])
        db.session.commit()
        from portfolio.privacy.operations import archive_path

        path = archive_path(archive.file_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"PK")
        ids = {"course": admin.course_id, "sibling": sibling, "mail": mail.id, "score": grade.delivery.id,
               "archive": archive.id, "intern": intern.user_id}
    return people, ids


@pytest.mark.parametrize("method,path,allowed", ROUTES)
@pytest.mark.parametrize("who", WHO)
def test_admin_routes(app, site, make_client, login, method, path, allowed, who):
    people, ids = site
    member = people[who]
    client = make_client()
    course = ids["course"]
    if member is not None:
        login(client, member)
        course = member.course_id
    url = path.format(**{**ids, "course": course})
    if method == "GET":
        response = client.get(url)
    else:
        data = {"csrf_token": token_for(client, course) if member else ""}
        if url.endswith(f"/courses/{ids['sibling']}"):
            data.update(keep_days="30", course_end="")
        response = client.post(url, data=data)
    expected = allowed if who == "admin" else DENIED[who]
    names_foreign_row = any(f"{{{key}}}" in path for key in ("sibling", "mail", "score", "archive", "intern"))
    if who == "foreign_admin" and not names_foreign_row:
        expected = allowed  # their own platform's page: it must show nothing of ours
        body = response.get_data(as_text=True)
        assert "Sibling course" not in body and "i@x.test" not in body
    if who == "anonymous" and method == "POST":
        assert response.status_code in (400, 401)  # no session, so no CSRF token either
        return
    assert response.status_code == expected, response.get_data(as_text=True)[:300]


def test_an_admin_cannot_reach_a_course_of_another_platform(app, site, make_client, login, make_course):
    people, ids = site
    foreign = make_course("Foreign")
    client = login(make_client(), people["admin"])
    assert client.get(f"/c/{ids['course']}/admin/courses/{foreign}").status_code == 404
    foreign_admin = login(make_client(), people["foreign_admin"])
    assert foreign_admin.get(f"/c/{people['foreign_admin'].course_id}/admin/courses/{ids['sibling']}").status_code == 404
    token = token_for(foreign_admin, people["foreign_admin"].course_id)
    assert foreign_admin.post(f"/c/{people['foreign_admin'].course_id}/admin/outbox/mails/{ids['mail']}/retry",
                              data={"csrf_token": token}).status_code == 404
