"""Every known-bad launch is refused with a 4xx and a page that says why."""

from __future__ import annotations

import time

import jwt
import pytest

from tests.platform import CLAIM, REMOVE


def assert_refused(response, *words, status=None):
    assert 400 <= response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
    if status:
        assert response.status_code == status
    page = response.get_data(as_text=True)
    assert "<html" in page and "Traceback" not in page
    assert "Reference" in page
    for word in words:
        assert word in page, f"{word!r} not in the error page"
    return page


def test_token_without_kid(client, lms):
    state, nonce = lms.login(client)
    token = lms.sign(lms.claims(nonce), kid=None)
    assert_refused(lms.launch(client, state=state, token=token), "no key id", status=401)


def test_token_with_unknown_kid(client, lms):
    state, nonce = lms.login(client)
    token = lms.sign(lms.claims(nonce), kid="no-such-key")
    assert_refused(lms.launch(client, state=state, token=token), "unknown kid", status=401)


def test_unknown_kid_fetches_the_key_set_once_at_most(client, lms):
    assert lms.launch(client).status_code == 302  # fills the cache
    assert lms.fetches == 1
    for attempt in range(3):
        state, nonce = lms.login(client)
        assert_refused(lms.launch(client, state=state, token=lms.sign(lms.claims(nonce), kid=f"made-up-{attempt}")))
    assert lms.fetches == 2  # one re-fetch for the first unknown kid, then rate-limited


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", ""])
def test_not_a_jwt(client, lms, token):
    state, _ = lms.login(client)
    response = client.post("/lti/launch", data={"id_token": token, "state": state})
    assert_refused(response)


def test_a_jwt_that_is_not_an_lti_message(client, lms):
    state, nonce = lms.login(client)
    now = int(time.time())
    token = lms.sign({"iss": lms.issuer, "aud": lms.client_id, "sub": "x", "nonce": nonce, "iat": now, "exp": now + 60})
    assert_refused(lms.launch(client, state=state, token=token), "LTI version")


@pytest.mark.parametrize("version, words", [(REMOVE, "no LTI version"), ("1.1", "1.3.0"), ("1.3.1", "1.3.0")])
def test_wrong_or_missing_version(client, lms, version, words):
    assert_refused(lms.launch(client, version=version), words, status=400)


@pytest.mark.parametrize("claim, words", [
    ("message_type", "no message_type"),
    ("roles", "no roles claim"),
    ("deployment_id", "no deployment_id"),
    ("sub", "no sub"),
])
def test_missing_required_claim(client, lms, claim, words):
    assert_refused(lms.launch(client, **{claim: REMOVE}), words)


def test_unknown_message_type(client, lms):
    assert_refused(lms.launch(client, message_type="LtiSomethingElse"), "does not handle the message type")


def test_resource_link_launch_without_resource_link(client, lms):
    assert_refused(lms.launch(client, resource_link=REMOVE), "resource_link")


def test_resource_link_without_id(client, lms):
    assert_refused(lms.launch(client, resource_link={"title": "no id"}), "resource_link")


@pytest.mark.parametrize("claims", [{"exp": "tomorrow"}, {"iat": "now"}, {"exp": REMOVE}, {"iat": REMOVE}])
def test_bad_or_missing_timestamps(client, lms, claims):
    assert_refused(lms.launch(client, **claims), status=401)


def test_expired(client, lms):
    now = int(time.time())
    assert_refused(lms.launch(client, iat=now - 600, exp=now - 120), "expired", status=401)


def test_expired_within_leeway_is_accepted(client, lms):
    now = int(time.time())
    assert lms.launch(client, iat=now - 90, exp=now - 30).status_code == 302


def test_issued_in_the_future_beyond_leeway(client, lms):
    now = int(time.time())
    assert_refused(lms.launch(client, iat=now + 300, exp=now + 360), "future", status=401)


def test_wrong_issuer(client, lms):
    assert_refused(lms.launch(client, iss="https://evil.example"), "issuer", status=401)


def test_audience_without_our_client_id(client, lms):
    assert_refused(lms.launch(client, aud="someone-else"), "audience", status=401)
    assert_refused(lms.launch(client, aud=["someone-else", "another"]), "audience", status=401)


def test_several_audiences_with_wrong_azp(client, lms):
    assert_refused(lms.launch(client, aud=[lms.client_id, "other"], azp="other"), "azp", status=401)


def test_several_audiences_without_azp(client, lms):
    assert_refused(lms.launch(client, aud=[lms.client_id, "other"]), "azp", status=401)


def test_several_audiences_with_our_azp_are_accepted(client, lms):
    assert lms.launch(client, aud=[lms.client_id, "other"], azp=lms.client_id).status_code == 302


def test_alg_none(client, lms):
    state, nonce = lms.login(client)
    token = jwt.encode(lms.claims(nonce), None, algorithm="none", headers={"kid": lms.kid})
    assert_refused(lms.launch(client, state=state, token=token), "RS256", status=401)


def test_hs256_signed_with_the_public_key(client, lms):
    """The classic key-confusion attack: HMAC keyed with the platform's public key."""
    from lti.keys import public_pem

    state, nonce = lms.login(client)
    header = {"alg": "HS256", "typ": "JWT", "kid": lms.kid}
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    signing_input = b64(json.dumps(header).encode()) + b"." + b64(json.dumps(lms.claims(nonce)).encode())
    signature = hmac.new(public_pem(lms.pem).encode(), signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + b64(signature)).decode()
    assert_refused(lms.launch(client, state=state, token=token), "RS256", status=401)


def test_signature_by_another_key_with_a_known_kid(client, lms):
    from lti.keys import generate_rsa_pem

    state, nonce = lms.login(client)
    token = lms.sign(lms.claims(nonce), pem=generate_rsa_pem())
    assert_refused(lms.launch(client, state=state, token=token), "signature", status=401)


@pytest.mark.parametrize("browser", ["same", "another"])
def test_replayed_token(client, make_client, lms, browser):
    state, nonce = lms.login(client)
    token = lms.sign(lms.claims(nonce))
    assert lms.launch(client, state=state, token=token).status_code == 302
    replayer = client if browser == "same" else make_client()
    assert_refused(lms.launch(replayer, state=state, token=token), "already used", status=401)


def test_replayed_nonce_with_a_fresh_state(client, make_client, lms):
    state, nonce = lms.login(client)
    token = lms.sign(lms.claims(nonce))
    assert lms.launch(client, state=state, token=token).status_code == 302
    other = make_client()
    fresh_state, _ = lms.login(other)
    assert_refused(lms.launch(other, state=fresh_state, token=token), "nonce", status=401)


def test_missing_state(client, lms):
    _, nonce = lms.login(client)
    response = client.post("/lti/launch", data={"id_token": lms.sign(lms.claims(nonce))})
    assert_refused(response, "no state")


def test_wrong_state(client, lms):
    _, nonce = lms.login(client)
    response = client.post("/lti/launch", data={"id_token": lms.sign(lms.claims(nonce)), "state": "state-forged"})
    assert_refused(response, "state is unknown")


def test_expired_state(app, client, lms):
    from datetime import timedelta

    import sqlalchemy as sa

    from lti.models import LoginState
    from portfolio.db import db, utcnow

    state, nonce = lms.login(client)
    with app.app_context():
        db.session.execute(sa.update(LoginState).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_refused(lms.launch(client, state=state, nonce=nonce), "expired", status=401)


def test_unknown_deployment(client, lms):
    assert_refused(lms.launch(client, deployment_id="not-registered"), "deployment", status=403)


def test_deployment_id_of_256_characters(client, lms):
    assert_refused(lms.launch(client, deployment_id="d" * 256), "255", status=400)


def test_target_link_uri_other_than_the_logins(client, lms, app):
    assert_refused(lms.launch(client, target_link_uri=app.config["BASE_URL"] + "/elsewhere"), "target_link_uri")


def test_launch_without_context(client, lms):
    assert_refused(lms.launch(client, context=REMOVE), "which course")


def test_disabled_platform(app, client, lms):
    import sqlalchemy as sa

    from lti.models import Platform
    from portfolio.db import db

    state, nonce = lms.login(client)
    with app.app_context():
        db.session.execute(sa.update(Platform).where(Platform.id == lms.id).values(enabled=False))
        db.session.commit()
    assert_refused(lms.launch(client, state=state, nonce=nonce), "disabled", status=403)
