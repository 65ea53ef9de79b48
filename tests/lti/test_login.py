"""The OIDC login initiation."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.lti.test_launch_refused import assert_refused


def test_login_redirects_to_the_platform_with_the_oidc_parameters(app, client, lms):
    response = client.get("/lti/login", query_string={
        "iss": lms.issuer, "login_hint": "42", "target_link_uri": app.config["BASE_URL"] + "/lti/launch",
        "lti_message_hint": "hint", "client_id": lms.client_id, "lti_deployment_id": "deployment-1",
    })
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == lms.issuer + "/auth"
    sent = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert sent["scope"] == "openid" and sent["response_type"] == "id_token"
    assert sent["response_mode"] == "form_post" and sent["prompt"] == "none"
    assert sent["client_id"] == lms.client_id and sent["login_hint"] == "42"
    assert sent["lti_message_hint"] == "hint"
    assert sent["redirect_uri"] == app.config["BASE_URL"] + "/lti/launch"
    assert len(sent["nonce"]) >= 32 and len(sent["state"]) >= 32
    cookie = response.headers["Set-Cookie"]
    assert "SameSite=None" in cookie and "Secure" in cookie and "Partitioned" in cookie and "HttpOnly" in cookie


def test_state_is_stored_only_as_a_hash(app, client, lms):
    import sqlalchemy as sa

    from lti.models import LoginState
    from portfolio.db import db

    state, _ = lms.login(client)
    with app.app_context():
        stored = db.session.scalars(sa.select(LoginState.state_hash)).all()
    assert state not in stored and len(stored) == 1


@pytest.mark.parametrize("missing, words", [("iss", "issuer"), ("login_hint", "login_hint"),
                                            ("target_link_uri", "target_link_uri")])
def test_login_without_a_required_parameter(client, lms, missing, words):
    params = {"iss": lms.issuer, "login_hint": "1", "target_link_uri": "http://x/lti/launch", "client_id": lms.client_id}
    params.pop(missing)
    assert_refused(client.get("/lti/login", query_string=params), words, status=400)


def test_login_from_an_unregistered_platform(client, lms):
    response = client.get("/lti/login", query_string={"iss": "https://unknown.example", "login_hint": "1",
                                                      "target_link_uri": "http://x/lti/launch"})
    assert_refused(response, "not registered", status=403)


def test_login_with_an_unknown_deployment(client, lms):
    response = client.get("/lti/login", query_string={"iss": lms.issuer, "login_hint": "1", "client_id": lms.client_id,
                                                      "target_link_uri": "http://x/lti/launch", "deployment_id": "nope"})
    assert_refused(response, "deployment", status=403)


def test_expired_login_states_nonces_and_tickets_are_purged(app, client, lms):
    from datetime import timedelta

    import sqlalchemy as sa

    from lti.models import LoginState, UsedNonce
    from portfolio.db import db, utcnow

    assert lms.launch(client).status_code == 302
    lms.login(client)  # a login that is never finished
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LoginState.id))) == 2
        assert db.session.scalar(sa.select(sa.func.count(UsedNonce.id))) == 1
        past = utcnow() - timedelta(seconds=1)
        db.session.execute(sa.update(LoginState).values(expires_at=past))
        db.session.execute(sa.update(UsedNonce).values(expires_at=past))
        db.session.commit()
    lms.login(client)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LoginState.id))) == 1
        assert db.session.scalar(sa.select(sa.func.count(UsedNonce.id))) == 0
