"""LTI platform storage (``lti_storage_target``): the login page that stores the login's
value in the LMS frame, the fallback to the cookie flow, and the launch check that
accepts a cookie-less launch only when the LMS frame hands the value back."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from urllib.parse import parse_qs, urlsplit

import sqlalchemy as sa

from lti.models import LoginState, UsedNonce
from lti.platform_storage import PROBE_COOKIE, PendingLaunch, storage_value
from portfolio.audit.models import AuditEvent
from portfolio.db import db, utcnow
from portfolio.people.models import User
from tests.lti.test_launch_refused import assert_refused
from tests.platform import DEPLOYMENT_ID


def attribute(page: str, name: str) -> str:
    return unescape(re.search(rf'{name}="([^"]*)"', page).group(1))


def storage_login(app, client, lms, target="_parent"):
    """The login initiation with a storage target; returns (state, nonce, page)."""
    response = client.get("/lti/login", query_string={
        "iss": lms.issuer, "login_hint": "hint-1", "client_id": lms.client_id,
        "target_link_uri": app.config["BASE_URL"] + "/lti/launch", "lti_deployment_id": DEPLOYMENT_ID,
        "lti_storage_target": target,
    })
    assert response.status_code == 200, response.get_data(as_text=True)
    page = response.get_data(as_text=True)
    sent = parse_qs(urlsplit(attribute(page, "data-continue-url")).query)
    return sent["state"][0], sent["nonce"][0], page


def post_launch(client, lms, state, nonce):
    return client.post("/lti/launch", data={"id_token": lms.sign(lms.claims(nonce)), "state": state})


def login_row(app, state) -> LoginState:
    from lti.launch import state_hash

    with app.app_context():
        return db.session.scalar(sa.select(LoginState).where(LoginState.state_hash == state_hash(state)))


def bindings(app) -> list:
    with app.app_context():
        return [e.details.get("binding") for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "signed_in").order_by(AuditEvent.id))]


def cookie_less_launch(app, client, make_client, lms):
    """Login in one browser, launch from a jar without the state cookie (blocked in the
    frame): the check page. Returns (state, pending launch id, the jar, the page)."""
    state, nonce, login_page = storage_login(app, client, lms)
    frame = make_client()
    response = post_launch(frame, lms, state, nonce)
    assert response.status_code == 200, response.get_data(as_text=True)
    return state, login_page, frame, response


def test_the_login_page_stores_the_value_in_the_named_frame_then_goes_on(app, client, lms):
    state, nonce, page = storage_login(app, client, lms, target="post_message_forwarding")
    assert attribute(page, "data-target") == "post_message_forwarding"
    assert attribute(page, "data-key") == "state_" + state
    login = login_row(app, state)
    assert login.storage_target == "post_message_forwarding" and login.nonce == nonce
    with app.app_context():
        assert attribute(page, "data-value") == storage_value(login)
    assert state not in attribute(page, "data-value") and nonce not in attribute(page, "data-value")
    onward = urlsplit(attribute(page, "data-continue-url"))
    assert f"{onward.scheme}://{onward.netloc}{onward.path}" == lms.issuer + "/auth"  # as the plain login redirects
    assert attribute(page, "data-fallback-url") == "/lti/login/without-storage"
    assert 'src="/static/js/lti_storage.js"' in page and "<script>" not in page
    assert "no-store" in client.get("/lti/login", query_string={
        "iss": lms.issuer, "login_hint": "1", "client_id": lms.client_id, "lti_storage_target": "_parent",
        "target_link_uri": app.config["BASE_URL"] + "/lti/launch"}).headers["Cache-Control"]


def test_a_login_without_a_storage_target_redirects_as_before(app, client, lms):
    state, _ = lms.login(client)
    assert login_row(app, state).storage_target is None


def test_with_cookies_the_launch_is_bound_by_the_cookie(app, client, lms):
    state, nonce, _ = storage_login(app, client, lms)
    response = post_launch(client, lms, state, nonce)
    assert response.status_code == 302
    assert bindings(app) == ["cookie"]


def test_without_the_cookie_the_launch_waits_for_the_stored_value(app, client, make_client, lms):
    state, login_page, frame, response = cookie_less_launch(app, client, make_client, lms)
    page = response.get_data(as_text=True)
    assert attribute(page, "data-mode") == "get" and attribute(page, "data-target") == "_parent"
    assert attribute(page, "data-key") == "state_" + state
    assert "no-store" in response.headers["Cache-Control"]
    assert PROBE_COOKIE in response.headers["Set-Cookie"]
    pending = attribute(page, 'name="launch" value')
    with app.app_context():
        # Nothing accepted yet: no person, no sign-in; the id is stored hashed only.
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0
        assert pending not in db.session.scalars(sa.select(PendingLaunch.token_hash)).all()
    assert bindings(app) == []

    # The frame keeps no cookie (no probe came back): the new-window path takes over.
    checked = make_client().post("/lti/launch/verify",
                                 data={"launch": pending, "value": attribute(login_page, "data-value")})
    assert checked.status_code == 200
    assert "Continue in a new window" in checked.get_data(as_text=True)
    assert bindings(app) == ["platform-storage"]

    replayed = make_client().post("/lti/launch/verify",
                                  data={"launch": pending, "value": attribute(login_page, "data-value")})
    assert_refused(replayed, "already checked", status=400)
    assert bindings(app) == ["platform-storage"]


def test_with_partitioned_cookies_the_checked_launch_stays_in_the_frame(app, client, make_client, lms):
    _, login_page, frame, response = cookie_less_launch(app, client, make_client, lms)
    checked = frame.post("/lti/launch/verify", data={  # the probe cookie comes back from this jar
        "launch": attribute(response.get_data(as_text=True), 'name="launch" value'),
        "value": attribute(login_page, "data-value")})
    assert checked.status_code == 302
    home = frame.get(checked.headers["Location"], follow_redirects=True)
    assert home.status_code == 200 and "My internship journal" in home.get_data(as_text=True)
    assert bindings(app) == ["platform-storage"]


def test_a_wrong_value_is_refused_and_spends_the_launch(app, client, make_client, lms):
    _, login_page, frame, response = cookie_less_launch(app, client, make_client, lms)
    pending = attribute(response.get_data(as_text=True), 'name="launch" value')
    wrong = frame.post("/lti/launch/verify", data={"launch": pending, "value": "0" * 64})
    assert_refused(wrong, "not the one stored", status=401)
    # No second try, even with the right value.
    again = frame.post("/lti/launch/verify", data={"launch": pending, "value": attribute(login_page, "data-value")})
    assert_refused(again, "already checked", status=400)
    assert bindings(app) == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_a_missing_value_says_the_lms_gave_nothing_back(app, client, make_client, lms):
    _, _, frame, response = cookie_less_launch(app, client, make_client, lms)
    pending = attribute(response.get_data(as_text=True), 'name="launch" value')
    assert_refused(frame.post("/lti/launch/verify", data={"launch": pending}), "did not give back", status=401)


def test_unknown_missing_and_expired_pending_launches(app, client, make_client, lms):
    assert_refused(make_client().post("/lti/launch/verify", data={"launch": "made-up", "value": "x"}),
                   "already checked or has expired", status=400)
    assert_refused(make_client().post("/lti/launch/verify", data={}), "already checked or has expired", status=400)
    _, login_page, frame, response = cookie_less_launch(app, client, make_client, lms)
    with app.app_context():
        db.session.execute(sa.update(PendingLaunch).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    late = frame.post("/lti/launch/verify", data={
        "launch": attribute(response.get_data(as_text=True), 'name="launch" value'),
        "value": attribute(login_page, "data-value")})
    assert_refused(late, "expired", status=400)


def test_the_state_and_nonce_stay_single_use(app, client, make_client, lms):
    state, nonce, _ = storage_login(app, client, lms)
    token = lms.sign(lms.claims(nonce))
    first = make_client().post("/lti/launch", data={"id_token": token, "state": state})
    assert first.status_code == 200
    assert_refused(make_client().post("/lti/launch", data={"id_token": token, "state": state}), "already used",
                   status=401)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(UsedNonce.id))) == 1


def test_a_login_page_whose_lms_did_not_answer_falls_back_to_the_cookie_flow(app, client, make_client, lms):
    state, nonce, _ = storage_login(app, client, lms)
    assert client.post("/lti/login/without-storage", data={"state": state}).status_code == 204
    assert login_row(app, state).storage_target is None
    # Cookies blocked as well: the launch goes on as any cookie-less launch, in a new window.
    response = post_launch(make_client(), lms, state, nonce)
    assert response.status_code == 200 and "Continue in a new window" in response.get_data(as_text=True)
    assert bindings(app) == ["none"]
    # A made-up state changes nothing and is not an error.
    assert client.post("/lti/login/without-storage", data={"state": "nope"}).status_code == 204


def test_the_canvas_shaped_sandbox_offers_platform_storage(app, client):
    page = client.get("/sandbox/launch/canvas/amara")
    html = page.get_data(as_text=True)
    login_url = unescape(re.search(r'<iframe[^>]+src="([^"]+)"', html).group(1))
    assert parse_qs(urlsplit(login_url).query)["lti_storage_target"] == ["_parent"]
    tool = app.config["BASE_URL"]
    assert attribute(html, "data-tool-origin") == tool
    assert 'src="/static/js/sandbox_storage.js"' in html
    moodle = client.get("/sandbox/launch/moodle/amara").get_data(as_text=True)
    assert "lti_storage_target" not in moodle and "sandbox_storage.js" not in moodle
