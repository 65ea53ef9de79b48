"""The privacy notice: shown to interns and supervisors until they acknowledge the
current version, recorded with the version; the LMS's data-privacy launch opens it."""

from __future__ import annotations

import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role
from tests.journal.helpers import csrf_token
from tests.platform import REMOVE

BANNER = "Read the privacy notice and confirm you have read it"


def test_anyone_can_read_the_notice(client):
    page = client.get("/privacy")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "What this tool stores about you, and why" in body and "Download my data" not in body


def test_an_intern_sees_the_notice_until_they_acknowledge_it(app, make_member, make_client, login):
    from portfolio.audit.models import AuditEvent
    from portfolio.privacy.models import NOTICE_VERSION, PrivacyAcknowledgement

    intern = make_member(Role.intern)
    client = login(make_client(), intern)
    page = client.get(f"/c/{intern.course_id}/preferences").get_data(as_text=True)
    assert BANNER in page
    notice = client.get(f"/c/{intern.course_id}/privacy?next=/c/{intern.course_id}/preferences")
    body = notice.get_data(as_text=True)
    assert "I have read the privacy notice" in body and f'name="next" value="/c/{intern.course_id}/preferences"' in body
    response = client.post("/privacy/acknowledge", data={
        "csrf_token": csrf_token(body), "course_id": intern.course_id, "next": f"/c/{intern.course_id}/preferences"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/c/{intern.course_id}/preferences")
    assert BANNER not in client.get(f"/c/{intern.course_id}/preferences").get_data(as_text=True)
    assert "You acknowledged this version" in client.get(f"/c/{intern.course_id}/privacy").get_data(as_text=True)
    with app.app_context():
        rows = db.session.scalars(sa.select(PrivacyAcknowledgement)).all()
        assert [(r.user_id, r.version) for r in rows] == [(intern.user_id, NOTICE_VERSION)]
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "privacy.acknowledged"))
        assert event.actor_id == intern.user_id and event.details == {"version": NOTICE_VERSION}


def test_acknowledging_twice_keeps_one_record(app, make_member, make_client, login):
    from portfolio.privacy.models import PrivacyAcknowledgement

    intern = make_member(Role.intern)
    client = login(make_client(), intern)
    token = csrf_token(client.get(f"/c/{intern.course_id}/privacy").get_data(as_text=True))
    for _ in range(2):
        assert client.post("/privacy/acknowledge", data={"csrf_token": token, "course_id": intern.course_id}).status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PrivacyAcknowledgement.id))) == 1


def test_a_new_version_asks_again(app, make_member, make_client, login, monkeypatch):
    from portfolio.privacy import operations

    intern = make_member(Role.intern)
    with app.app_context():
        from portfolio.people.models import User

        operations.acknowledge_notice(db.session.get(User, intern.user_id), version="2020-01")
        db.session.commit()
    client = login(make_client(), intern)
    assert BANNER in client.get(f"/c/{intern.course_id}/preferences").get_data(as_text=True)


def test_next_never_leads_to_another_site(make_member, make_client, login):
    intern = make_member(Role.intern)
    client = login(make_client(), intern)
    token = csrf_token(client.get(f"/c/{intern.course_id}/privacy").get_data(as_text=True))
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = client.post("/privacy/acknowledge", data={"csrf_token": token, "course_id": intern.course_id,
                                                             "next": bad})
        assert response.headers["Location"].endswith(f"/c/{intern.course_id}/")


def test_advisors_are_not_asked_but_supervisors_are(make_member, make_client, login):
    advisor = make_member(Role.advisor)
    supervisor = make_member(Role.supervisor, course_id=advisor.course_id)
    assert BANNER not in login(make_client(), advisor).get(f"/c/{advisor.course_id}/preferences").get_data(as_text=True)
    assert BANNER in login(make_client(), supervisor).get(f"/c/{advisor.course_id}/preferences").get_data(as_text=True)


def test_acknowledging_needs_a_session(client):
    client.get("/privacy")
    assert client.post("/privacy/acknowledge", data={}).status_code in (400, 401)


def test_the_footer_links_the_privacy_page(make_member, make_client, login):
    intern = make_member(Role.intern)
    page = login(make_client(), intern).get(f"/c/{intern.course_id}/preferences").get_data(as_text=True)
    assert f'href="/c/{intern.course_id}/privacy"' in page


def test_the_data_privacy_launch_in_a_course_opens_the_privacy_page(app, client, lms):
    response = lms.launch(client, message_type="LtiDataPrivacyLaunchRequest", resource_link=REMOVE)
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    assert "/privacy" in response.headers["Location"]
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "Download my data" in page.get_data(as_text=True)


def test_the_data_privacy_launch_without_a_course(app, client, make_client, lms):
    lms.launch(make_client())  # the person launched the tool once before
    response = lms.launch(client, message_type="LtiDataPrivacyLaunchRequest", resource_link=REMOVE, context=REMOVE)
    assert response.status_code == 302 and response.headers["Location"].endswith("/privacy")
    assert "Download my data" in client.get("/privacy").get_data(as_text=True)


def test_the_data_privacy_launch_of_a_stranger_shows_only_the_notice(app, client, lms):
    response = lms.launch(client, message_type="LtiDataPrivacyLaunchRequest", resource_link=REMOVE, context=REMOVE)
    assert response.status_code == 302
    body = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "What this tool stores" in body and "Download my data" not in body


def test_a_course_page_reads_the_person_their_membership_and_the_notice_in_one_statement(
        app, make_member, make_client, login):
    """The user loader brings the membership, its course and the notice's state along; the
    banner still follows the acknowledgement."""
    from tests.cohort.test_dashboard import count_statements

    intern = make_member(Role.intern)
    client = login(make_client(), intern)
    page = client.get(f"/c/{intern.course_id}/grade")
    assert 'aria-label="Your privacy"' in page.get_data(as_text=True)
    grade_page = count_statements(app, client, f"/c/{intern.course_id}/grade")
    assert grade_page == 2  # the person with membership, course and notice; the grade
    response = client.post("/privacy/acknowledge", data={
        "csrf_token": csrf_token(client.get(f"/c/{intern.course_id}/privacy").get_data(as_text=True)),
        "course_id": intern.course_id})
    assert response.status_code == 302
    after = client.get(f"/c/{intern.course_id}/grade").get_data(as_text=True)
    assert 'aria-label="Your privacy"' not in after
    other = make_member(Role.intern)  # another course: 404, as before
    assert client.get(f"/c/{other.course_id}/grade").status_code == 404
