"""Assignment and Grade Services against the sandbox LMS over real HTTP: the claims a
launch stores, finding or creating the grade column, what a score looks like on the
wire, and what each kind of answer from the LMS becomes."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from lti import ags, tokens
from lti.models import AccessToken, Platform, ServiceEndpoint
from lti.sandbox import platform as sandbox
from lti.sandbox import services as sandbox_services
from lti.sandbox.models import SandboxLineItem
from portfolio import lms
from portfolio.db import db, utcnow
from portfolio.lms import DeliveryDeferred, DeliveryRefused
from portfolio.people.models import Course, Role, User
from tests.lti.advantage import (  # noqa: F401  (fixtures)
    clean_sandbox_services, course_of, issuer, launch, outgoing, sandbox_lineitems, sandbox_scores, score_for, service_calls,
    token_requests, user_of,
)

AGS_SCOPES = {ags.SCOPE_LINEITEM, ags.SCOPE_LINEITEM_READONLY, ags.SCOPE_RESULT_READONLY, ags.SCOPE_SCORE}


@pytest.mark.parametrize("shape", sandbox.SHAPES)
def test_a_launch_stores_the_course_s_service_endpoints(app, make_client, shape):
    launch(make_client, shape, "amara")
    with app.app_context():
        course = course_of(shape)
        endpoint = db.session.scalar(sa.select(ServiceEndpoint).where(ServiceEndpoint.course_id == course.id))
        assert endpoint.resource_link_id == "portfolio-1"
        assert set(endpoint.ags_scopes) == AGS_SCOPES
        assert endpoint.ags_lineitems_url.endswith(f"/sandbox/{shape}/courses/internship-2026/lineitems"
                                                   + ("?type_id=1" if shape == "moodle" else ""))
        # Moodle names the activity's column; Canvas leaves it to the tool.
        assert (endpoint.ags_lineitem_url is not None) is (shape == "moodle")
        assert endpoint.nrps_memberships_url.endswith(f"/sandbox/{shape}/courses/internship-2026/memberships")
        assert endpoint.nrps_versions == ["2.0"]
        service = lms.current()
        assert service.grades_supported(course) and service.roster_supported(course)


def test_a_course_whose_launches_offered_no_services_supports_neither(app, make_member):
    intern = make_member()
    with app.app_context():
        course, user = db.session.get(Course, intern.course_id), db.session.get(User, intern.user_id)
        service = lms.current()
        assert not service.grades_supported(course) and not service.roster_supported(course)
        with pytest.raises(DeliveryDeferred, match="grade service"):
            service.send_score(course, score_for(course, user))
        with pytest.raises(DeliveryDeferred, match="membership service"):
            service.fetch_roster(course)


def test_a_launch_without_the_score_scope_does_not_offer_grades(app, make_client):
    launch(make_client, "moodle", "amara")
    with app.app_context():
        course = course_of("moodle")
        endpoint = db.session.scalar(sa.select(ServiceEndpoint).where(ServiceEndpoint.course_id == course.id))
        endpoint.ags_scopes = [ags.SCOPE_RESULT_READONLY]
        db.session.commit()
        assert not lms.current().grades_supported(course)


def test_moodle_score_goes_to_the_activity_s_column_as_a_score_document(app, make_client, outgoing):
    launch(make_client, "moodle", "helen", "amara")
    with app.app_context():
        course, amara = course_of("moodle"), user_of("moodle", "amara")
        stamp = datetime(2027, 6, 30, 14, 5, 9, 123456, tzinfo=timezone.utc)
        receipt = lms.current().send_score(course, score_for(course, amara, 8.5, 10, timestamp=stamp))
        assert receipt.startswith("204")
        [received] = sandbox_scores("moodle")
        assert received.user_id == amara.lti_sub == "100"
        assert (received.score_given, received.score_maximum) == (8.5, 10.0)
        assert received.timestamp_text == "2027-06-30T14:05:09.123456+00:00"
        assert received.comment == "Thorough reflections"
        assert (received.activity_progress, received.grading_progress) == ("Completed", "FullyGraded")
        assert received.applied and received.line_item.key == "portfolio-1"
        assert [i.key for i in sandbox_lineitems("moodle")] == ["portfolio-1"]  # no column created
    # Straight to <lineitem>/scores, the path before Moodle's ?type_id query.
    assert service_calls(outgoing) == [
        ("POST", "/sandbox/moodle/courses/internship-2026/lineitems/portfolio-1/scores")]


def test_the_score_document_and_its_media_type(app, make_client, monkeypatch):
    sent = {}
    original = tokens.service_request

    def spy(platform, scopes, method, url, **kwargs):
        sent.update(url=url, **kwargs)
        return original(platform, scopes, method, url, **kwargs)

    monkeypatch.setattr(tokens, "service_request", spy)
    launch(make_client, "moodle", "amara")
    with app.app_context():
        course, amara = course_of("moodle"), user_of("moodle", "amara")
        stamp = datetime(2027, 7, 1, 9, 0, 0, 500, tzinfo=timezone(timedelta(hours=2)))
        lms.current().send_score(course, score_for(course, amara, 7, 12, timestamp=stamp, comment=None))
    assert sent["headers"]["Content-Type"] == "application/vnd.ims.lis.v1.score+json"
    assert sent["url"].endswith("/lineitems/portfolio-1/scores?type_id=1")
    assert sent["json"] == {"userId": "100", "scoreGiven": 7, "scoreMaximum": 12, "activityProgress": "Completed",
                            "gradingProgress": "FullyGraded", "timestamp": "2027-07-01T07:00:00.000500+00:00"}


@pytest.mark.parametrize("url, expected", [
    ("https://lms.example/api/lti/courses/7/line_items/31", "https://lms.example/api/lti/courses/7/line_items/31/scores"),
    ("https://m.example/mod/lti/services.php/2/lineitems/2/lineitem?type_id=1",
     "https://m.example/mod/lti/services.php/2/lineitems/2/lineitem/scores?type_id=1"),
    ("https://lms.example/items/31/", "https://lms.example/items/31/scores"),
])
def test_scores_url_goes_before_the_query_string(url, expected):
    assert ags.scores_url(url) == expected


def test_canvas_column_is_created_once_then_remembered(app, make_client, outgoing):
    launch(make_client, "canvas", "helen", "amara", "lucia")
    with app.app_context():
        course = course_of("canvas")
        service = lms.current()
        service.send_score(course, score_for(course, user_of("canvas", "amara"), 9, 20))
        service.send_score(course, score_for(course, user_of("canvas", "lucia"), 15, 20))
        [item] = sandbox_lineitems("canvas")
        assert (item.label, item.score_maximum, item.resource_link_id, item.resource_id, item.tag) == (
            "Internship portfolio", 20.0, "portfolio-1", "portfolio", "portfolio-grade")
        assert {s.user_id for s in item.scores} == {user_of("canvas", "amara").lti_sub, user_of("canvas", "lucia").lti_sub}
        endpoint = db.session.scalar(sa.select(ServiceEndpoint).where(ServiceEndpoint.course_id == course.id))
        db.session.refresh(endpoint)
        assert endpoint.found_lineitem_url.endswith(f"/lineitems/{item.key}")
    lineitems = "/sandbox/canvas/courses/internship-2026/lineitems"
    scores = f"{lineitems}/{item.key}/scores"
    assert service_calls(outgoing) == [
        ("GET", lineitems), ("POST", lineitems), ("POST", scores), ("POST", scores)]


def test_canvas_finds_an_existing_column_by_its_tag(app, make_client, outgoing):
    launch(make_client, "canvas", "amara")
    with app.app_context():
        for key, tag, link in (("other", "attendance", "portfolio-1"), ("ours", "portfolio-grade", "portfolio-1"),
                               ("elsewhere", "portfolio-grade", "another-link")):
            db.session.add(SandboxLineItem(shape="canvas", context_id=sandbox.CONTEXT["id"], key=key, label=key,
                                           score_maximum=10, resource_link_id=link, tag=tag))
        db.session.commit()
        course = course_of("canvas")
        lms.current().send_score(course, score_for(course, user_of("canvas", "amara")))
        [received] = sandbox_scores("canvas")
        assert received.line_item.key == "ours"
        assert len(sandbox_lineitems("canvas")) == 3  # nothing created
    assert ("POST", "/sandbox/canvas/courses/internship-2026/lineitems") not in outgoing


def test_one_token_serves_several_scores_and_is_shared_through_the_database(app, make_client, outgoing):
    launch(make_client, "moodle", "amara", "lucia")
    with app.app_context():
        course = course_of("moodle")
        lms.current().send_score(course, score_for(course, user_of("moodle", "amara")))
        lms.current().send_score(course, score_for(course, user_of("moodle", "lucia")))
        [cached] = db.session.scalars(sa.select(AccessToken)).all()
        assert cached.scopes == " ".join(sorted({ags.SCOPE_SCORE, ags.SCOPE_LINEITEM, ags.SCOPE_LINEITEM_READONLY}))
        # Sandbox tokens live an hour; the cache stops using one a minute early.
        assert timedelta(minutes=58) < cached.expires_at - utcnow() <= timedelta(minutes=59)
        assert len(sandbox_scores("moodle")) == 2
    assert token_requests(outgoing) == 1


def test_an_expired_cached_token_is_replaced(app, make_client, outgoing):
    launch(make_client, "moodle", "amara")
    with app.app_context():
        course, amara = course_of("moodle"), user_of("moodle", "amara")
        lms.current().send_score(course, score_for(course, amara))
        db.session.execute(sa.update(AccessToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
        lms.current().send_score(course, score_for(course, amara))
    assert token_requests(outgoing) == 2


def test_a_rejected_token_is_replaced_once_and_the_call_repeated(app, make_client, outgoing):
    launch(make_client, "moodle", "amara")
    with app.app_context():
        course, amara = course_of("moodle"), user_of("moodle", "amara")
        lms.current().send_score(course, score_for(course, amara, 5))
        first_token = db.session.scalar(sa.select(AccessToken.token))
        sandbox_services.inject("401")
        receipt = lms.current().send_score(course, score_for(course, amara, 6))
        assert receipt.startswith("204")
        assert [s.score_given for s in sandbox_scores("moodle")] == [5, 6]
        db.session.commit()
        assert db.session.scalar(sa.select(AccessToken.token)) != first_token
    assert token_requests(outgoing) == 2


def test_a_second_401_is_a_refusal(app, make_client, outgoing):
    launch(make_client, "moodle", "amara")
    sandbox_services.inject("401", "401")
    with app.app_context():
        course = course_of("moodle")
        with pytest.raises(DeliveryRefused) as refused:
            lms.current().send_score(course, score_for(course, user_of("moodle", "amara")))
        assert refused.value.status == 401 and "invalid_token" in refused.value.message
        assert sandbox_scores() == []
    assert token_requests(outgoing) == 2


@pytest.mark.parametrize("shape, fault, status, retry_after", [
    ("moodle", "503", 503, None),
    ("canvas", "503", 503, None),
    ("canvas", "rate-limit", 403, None),  # Canvas: 403 "Rate Limit Exceeded"
    ("moodle", "rate-limit", 429, timedelta(seconds=2)),
])
def test_answers_that_mean_try_later(app, make_client, shape, fault, status, retry_after):
    launch(make_client, shape, "amara")
    sandbox_services.inject(fault)
    with app.app_context():
        course = course_of(shape)
        with pytest.raises(DeliveryDeferred) as deferred:
            lms.current().send_score(course, score_for(course, user_of(shape, "amara")))
        assert deferred.value.status == status and deferred.value.retry_after == retry_after
        assert sandbox_scores() == []


def test_a_timeout_means_try_later(app, make_client, monkeypatch):
    launch(make_client, "moodle", "amara")
    with app.app_context():
        course, amara = course_of("moodle"), user_of("moodle", "amara")
        lms.current().send_score(course, score_for(course, amara))  # the token is cached before the fault
        # Short only now: the launch's key-set fetch and the token request must not race it on a busy machine.
        monkeypatch.setitem(app.config, "LTI_HTTP_TIMEOUT", (2, 0.3))
        sandbox_services.inject("timeout")
        with pytest.raises(DeliveryDeferred, match="did not answer in time"):
            lms.current().send_score(course, score_for(course, amara))


def test_an_unreachable_lms_means_try_later(app, make_client):
    launch(make_client, "moodle", "amara")
    with app.app_context():
        course = course_of("moodle")
        endpoint = db.session.scalar(sa.select(ServiceEndpoint).where(ServiceEndpoint.course_id == course.id))
        endpoint.ags_lineitem_url = "http://127.0.0.1:9/closed/lineitem"  # the discard port: nothing listens
        db.session.commit()
        with pytest.raises(DeliveryDeferred, match="could not be reached"):
            lms.current().send_score(course, score_for(course, user_of("moodle", "amara")))


def test_a_bad_request_is_refused_with_the_lms_s_answer(app, make_client):
    launch(make_client, "canvas", "amara")
    sandbox_services.inject("400")
    with app.app_context():
        course = course_of("canvas")
        with pytest.raises(DeliveryRefused) as refused:
            lms.current().send_score(course, score_for(course, user_of("canvas", "amara")))
        assert refused.value.status == 400
        assert "400" in refused.value.message and "injected fault" in refused.value.message


def test_the_sandbox_checks_the_media_type_and_the_person(app, make_client):
    launch(make_client, "moodle", "amara")
    with app.app_context():
        course = course_of("moodle")
        endpoint = ags.grade_endpoint(course)
        platform = db.session.get(Platform, course.platform_id)
        url = ags.scores_url(endpoint.ags_lineitem_url)
        body = ags.score_body("100", score_for(course, user_of("moodle", "amara")))
        with pytest.raises(DeliveryRefused) as wrong_type:
            tokens.service_request(platform, ags.scopes_for(endpoint), "POST", url, what="the LMS", json=body)
        assert wrong_type.value.status == 415
        with pytest.raises(DeliveryRefused) as stranger:
            tokens.service_request(platform, ags.scopes_for(endpoint), "POST", url, what="the LMS",
                                   json=dict(body, userId="999"), headers={"Content-Type": ags.SCORE_TYPE})
        assert stranger.value.status == 400 and "userId is not a person" in stranger.value.message


def test_the_sandbox_wants_a_token_with_the_score_scope(app, client):
    with app.test_request_context():
        now = int(datetime.now(timezone.utc).timestamp())
        url = "/sandbox/moodle/courses/internship-2026/lineitems/portfolio-1/scores"
        only_roster = sandbox.sign({"iss": issuer("moodle"), "sub": "x", "iat": now, "exp": now + 60,
                                    "scope": sandbox_services.SCOPE_MEMBERSHIPS})
        expired = sandbox.sign({"iss": issuer("moodle"), "sub": "x", "iat": now - 120, "exp": now - 60,
                                "scope": sandbox_services.SCOPE_SCORE})
        other_shape = sandbox.sign({"iss": issuer("canvas"), "sub": "x", "iat": now, "exp": now + 60,
                                    "scope": sandbox_services.SCOPE_SCORE})
    headers = {"Content-Type": ags.SCORE_TYPE}
    assert client.post(url, headers=headers).status_code == 401
    assert client.post(url, headers={**headers, "Authorization": f"Bearer {only_roster}"}).status_code == 403
    assert client.post(url, headers={**headers, "Authorization": f"Bearer {expired}"}).status_code == 401
    assert client.post(url, headers={**headers, "Authorization": f"Bearer {other_shape}"}).status_code == 401


def test_the_token_endpoint_grants_only_service_scopes(app, make_client):
    launch(make_client, "moodle", "amara")
    with app.app_context():
        platform = db.session.get(Platform, course_of("moodle").platform_id)
        with pytest.raises(DeliveryRefused) as refused:
            tokens.fetch_token(platform, ["https://example.com/scope/everything"])
        assert refused.value.status == 400 and "invalid_scope" in refused.value.message


def test_a_score_not_newer_than_the_last_is_kept_but_ignored(app, make_client, client):
    launch(make_client, "moodle", "amara")
    with app.app_context():
        course, amara = course_of("moodle"), user_of("moodle", "amara")
        stamp = utcnow()
        lms.current().send_score(course, score_for(course, amara, 9, timestamp=stamp))
        lms.current().send_score(course, score_for(course, amara, 9, timestamp=stamp))  # a resend
        lms.current().send_score(course, score_for(course, amara, 3, timestamp=stamp - timedelta(microseconds=1)))
        assert [s.applied for s in sandbox_scores("moodle")] == [True, False, False]
    page = client.get("/sandbox/gradebook").get_data(as_text=True)
    row = re.search(r"Amara Okafor.*?</tr>", page, re.S).group(0)
    assert "9.0 / 10.0" in row and stamp.isoformat(timespec="microseconds") in row
    assert re.findall(r"<td>(\d+)</td>", row) == ["3", "2"]  # received, ignored


def test_an_intern_without_an_lms_account_is_refused(app, make_client, make_member):
    launch(make_client, "moodle", "helen")
    with app.app_context():
        course = course_of("moodle")
        stranger = make_member(Role.intern, course_id=course.id)
        user = db.session.get(User, stranger.user_id)
        user.lti_sub, user.platform_id = None, None
        db.session.commit()
        with pytest.raises(DeliveryRefused, match="no account in the course's LMS"):
            lms.current().send_score(course, score_for(course, user))


def test_a_column_deleted_in_the_lms_is_looked_for_again(app, make_client):
    launch(make_client, "canvas", "amara")
    with app.app_context():
        course, amara = course_of("canvas"), user_of("canvas", "amara")
        lms.current().send_score(course, score_for(course, amara))
        db.session.execute(sa.delete(SandboxLineItem))
        db.session.commit()
        with pytest.raises(DeliveryRefused) as refused:
            lms.current().send_score(course, score_for(course, amara))
        assert refused.value.status == 404
        lms.current().send_score(course, score_for(course, amara))  # the advisor's retry
        assert len(sandbox_lineitems("canvas")) == 1 and len(sandbox_scores("canvas")) == 1


def test_faults_are_queued_over_http_and_served_in_order(app, client, make_client):
    assert client.post("/sandbox/faults", json={"faults": ["503", "rate-limit"]}).get_json()["faults"] == [
        "503", "rate-limit"]
    assert client.post("/sandbox/faults", json={"faults": ["meteor"]}).status_code == 400
    assert client.post("/sandbox/faults", data={"fault": "401"}).status_code == 302  # the gradebook's form
    assert sandbox_services.pending_faults() == ["503", "rate-limit", "401"]
    launch(make_client, "canvas", "amara")
    with app.app_context():
        course = course_of("canvas")
        for status in (503, 403):
            with pytest.raises(DeliveryDeferred) as deferred:
                lms.current().send_score(course, score_for(course, user_of("canvas", "amara")))
            assert deferred.value.status == status
    assert sandbox_services.pending_faults() == ["401"]
    assert client.post("/sandbox/faults", json={"clear": True}).get_json()["faults"] == []


def test_the_cli_lists_what_launches_offered(app, make_client, runner):
    launch(make_client, "moodle", "amara")
    result = runner.invoke(args=["lti", "services"])
    assert result.exit_code == 0, result.output
    assert "resource link portfolio-1" in result.output and "grades: yes" in result.output
    assert "/sandbox/moodle/courses/internship-2026/memberships" in result.output
