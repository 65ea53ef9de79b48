"""The tool's keys, /lti/jwks, and the lti commands of the public contract."""

from __future__ import annotations

from datetime import timedelta

import jwt
import sqlalchemy as sa

from lti import keys
from lti.models import Deployment, Platform, ToolKey
from portfolio.db import db, utcnow


def test_jwks_publishes_a_key_generated_on_first_use(client):
    published = client.get("/lti/jwks").get_json()["keys"]
    assert len(published) == 1
    key = published[0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig" and key["kid"]
    assert "d" not in key and "p" not in key  # never the private parts
    assert client.get("/lti/jwks").get_json()["keys"] == published  # stable


def test_rotation_keeps_the_previous_key_published_for_the_overlap(app, client, runner):
    old = client.get("/lti/jwks").get_json()["keys"][0]["kid"]
    result = runner.invoke(args=["lti", "rotate-keys"])
    assert result.exit_code == 0, result.output
    assert f"retired key {old}" in result.output
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert len(kids) == 2 and old in kids
    with app.app_context():
        new = keys.active_key()
        new_kid, new_pem = new.kid, new.private_key_pem
    assert new_kid != old and new_kid in kids
    # messages are signed with the new key and verify with what we publish
    token = jwt.encode({"x": 1}, new_pem, algorithm="RS256", headers={"kid": new_kid})
    jwk = next(k for k in client.get("/lti/jwks").get_json()["keys"] if k["kid"] == new_kid)
    assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"]) == {"x": 1}
    with app.app_context():
        db.session.execute(sa.update(ToolKey).where(ToolKey.kid == old).values(published_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == [new_kid]


def test_add_platform_with_several_deployments_and_list_it(app, runner):
    args = ["lti", "add-platform", "--issuer", "https://moodle.example.edu", "--client-id", "abc",
            "--auth-login-url", "https://moodle.example.edu/mod/lti/auth.php",
            "--auth-token-url", "https://moodle.example.edu/mod/lti/token.php",
            "--key-set-url", "https://moodle.example.edu/mod/lti/certs.php",
            "--deployment-id", "1", "--deployment-id", "2"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "deployments: 1, 2" in result.output
    again = runner.invoke(args=args[:-4] + ["--deployment-id", "3"])
    assert again.exit_code == 0 and "deployments: 1, 2, 3 (1 new)" in again.output
    second = runner.invoke(args=["lti", "add-platform", "--issuer", "https://canvas.instructure.com",
                                 "--client-id", "10000000000042",
                                 "--auth-login-url", "https://sso.canvaslms.com/api/lti/authorize_redirect",
                                 "--auth-token-url", "https://sso.canvaslms.com/login/oauth2/token",
                                 "--key-set-url", "https://sso.canvaslms.com/api/lti/security/jwks",
                                 "--deployment-id", "17:8865aa05b4b79b64a91a86042e43af5ea8ae79eb"])
    assert second.exit_code == 0, second.output
    listed = runner.invoke(args=["lti", "list-platforms"]).output
    assert "https://moodle.example.edu" in listed and "https://canvas.instructure.com" in listed
    assert "deployment 3" in listed and "deployment 17:8865aa05b4b79b64a91a86042e43af5ea8ae79eb" in listed
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Platform.id))) == 2
        assert db.session.scalar(sa.select(sa.func.count(Deployment.id))) == 4


def test_add_platform_refuses_non_http_urls_and_long_deployment_ids(runner):
    base = ["lti", "add-platform", "--issuer", "https://lms.example", "--client-id", "c",
            "--auth-login-url", "https://lms.example/auth", "--auth-token-url", "https://lms.example/token"]
    result = runner.invoke(args=base + ["--key-set-url", "file:///etc/passwd", "--deployment-id", "1"])
    assert result.exit_code != 0 and "key set URL must be an http(s) URL" in result.output
    result = runner.invoke(args=base + ["--key-set-url", "https://lms.example/jwks", "--deployment-id", "x" * 256])
    assert result.exit_code != 0 and "1 to 255 characters" in result.output


def test_list_platforms_when_none(runner):
    assert "no platforms registered" in runner.invoke(args=["lti", "list-platforms"]).output


def test_demo_load_is_idempotent(app, runner):
    from portfolio.grading.models import Criterion, Level
    from portfolio.journal.models import Entry
    from portfolio.objectives.models import Objective
    from portfolio.people.models import Course, Membership
    from portfolio.placements.models import Placement

    counts = []
    for _ in range(2):
        result = runner.invoke(args=["demo", "load"])
        assert result.exit_code == 0, result.output
        with app.app_context():
            counts.append([db.session.scalar(sa.select(sa.func.count(model.id)))
                           for model in (Course, Membership, Platform, Objective, Placement, Criterion, Level, Entry)])
    assert counts[0] == counts[1]
    assert counts[0][:7] == [2, 16, 2, 10, 6, 6, 24]  # one course per sandbox platform
    with app.app_context():
        states = set(db.session.scalars(sa.select(Entry.state)))
        zones = set(db.session.scalars(sa.select(Placement.timezone)))
        countries = set(db.session.scalars(sa.select(Placement.country)))
    assert {s.value for s in states} == {"draft", "submitted", "changes_requested", "approved"}
    assert zones == {"Pacific/Auckland", "America/Los_Angeles", "Europe/Berlin"} and len(countries) == 3
