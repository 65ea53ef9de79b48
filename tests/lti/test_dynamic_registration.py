"""LTI Dynamic Registration: against a Moodle 4.5 served from its captured documents on
loopback, and against the sandbox's Moodle- and Canvas-shaped platforms, whose keys are
real, so that a launch from the new registration proves it works. Then the failures,
each a 4xx page that says why, and the Canvas developer-key JSON."""

from __future__ import annotations

import json
import re
import threading
from html import unescape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from lti import dynamic_registration
from lti.models import Deployment, Platform
from lti.sandbox import platform as sandbox
from lti.sandbox.links import SandboxToolRegistration
from portfolio.db import db
from tests.conftest import free_port
from tests.journal.helpers import csrf_token
from tests.lti.test_deep_linking import follow_sandbox_launch

# A copy of shared/fixtures/lti/moodle-4.5-dynamic-registration.json: Moodle 4.5.6's own documents.
FIXTURE = json.loads((Path(__file__).parent / "data" / "moodle-4.5-dynamic-registration.json").read_text())
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CAPTURED_HOST = "http://127.0.0.1:8082"


class _MoodleHandler(BaseHTTPRequestHandler):
    def _send(self, status: int, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        server = self.server
        server.config_authorization = self.headers.get("Authorization")
        if server.config_body is not None:
            self._send(200, server.config_body, "text/html")
        else:
            self._send(200, server.document)

    def do_POST(self):  # noqa: N802
        server = self.server
        length = int(self.headers.get("Content-Length", 0))
        server.registration_request = json.loads(self.rfile.read(length))
        server.registration_authorization = self.headers.get("Authorization")
        self._send(*server.registration_answer)

    def log_message(self, *args):
        pass


class CapturedMoodle:
    """Moodle 4.5.6 as captured (shared/fixtures), re-hosted on a loopback port."""

    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _MoodleHandler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        text = json.dumps(FIXTURE["openid_configuration"]).replace(CAPTURED_HOST, self.base)
        self.server.document = json.loads(text)
        self.server.config_body = None
        self.server.registration_answer = (200, FIXTURE["registration_response"])
        self.server.registration_request = None
        self.server.config_authorization = self.server.registration_authorization = None
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = self.base + "/mod/lti/openid-configuration.php"

    def close(self):
        self.server.shutdown()


@pytest.fixture
def moodle():
    server = CapturedMoodle()
    yield server
    server.close()


def open_registration(client, openid_configuration: str, token: str | None = None):
    query = {"openid_configuration": openid_configuration}
    if token:
        query["registration_token"] = token
    return client.get("/lti/register", query_string=query)


def confirm(client, page: str):
    fields = dict(re.findall(r'name="(openid_configuration|registration_token)" type="hidden" value="([^"]*)"', page))
    fields = {k: unescape(v) for k, v in fields.items()}
    return client.post("/lti/register", data=dict(fields, csrf_token=csrf_token(page)))


# --- Against the captured Moodle -------------------------------------------------------------


def test_the_captured_moodle_configuration_is_accepted():
    config = dynamic_registration.parse_configuration(CAPTURED_HOST + "/mod/lti/openid-configuration.php",
                                                      FIXTURE["openid_configuration"])
    assert (config.issuer, config.product_family) == (CAPTURED_HOST, "moodle")
    assert config.authorization_endpoint == CAPTURED_HOST + "/mod/lti/auth.php"
    assert set(config.scopes) == set(dynamic_registration.SCOPES)


def test_registration_with_moodle(app, client, moodle):
    page = open_registration(client, moodle.url, "moodle-token-1")
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert "moodle" in html and "4.5.6" in html and "contextmembership.readonly" in html
    assert moodle.server.config_authorization == "Bearer moodle-token-1"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Platform.id))) == 0  # the GET changes nothing

    done = confirm(client, html)
    assert done.status_code == 200, done.get_data(as_text=True)
    assert "Manage tools" in done.get_data(as_text=True) and "js/lti_register.js" in done.get_data(as_text=True)

    sent = moodle.server.registration_request
    assert moodle.server.registration_authorization == "Bearer moodle-token-1"
    base = app.config["BASE_URL"]
    assert sent["application_type"] == "web" and sent["response_types"] == ["id_token"]
    assert sent["grant_types"] == ["implicit", "client_credentials"]
    assert sent["token_endpoint_auth_method"] == "private_key_jwt"
    assert (sent["initiate_login_uri"], sent["redirect_uris"], sent["jwks_uri"]) == \
        (base + "/lti/login", [base + "/lti/launch"], base + "/lti/jwks")
    assert set(sent["scope"].split()) == set(dynamic_registration.SCOPES)
    tool = sent[TOOL_CONFIGURATION]
    assert tool["domain"] == urlsplit(base).netloc == urlsplit(tool["target_link_uri"]).netloc  # Moodle insists
    assert {m["type"] for m in tool["messages"]} == {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
    assert all(m["label"] for m in tool["messages"])

    with app.app_context():
        platform = db.session.scalar(sa.select(Platform))
        assert (platform.issuer, platform.client_id, platform.product_family) == (moodle.base, "hrFBRNoJ3CKg48m", "moodle")
        assert platform.auth_login_url == moodle.base + "/mod/lti/auth.php"
        assert platform.auth_token_url == moodle.base + "/mod/lti/token.php"
        assert platform.key_set_url == moodle.base + "/mod/lti/certs.php"
        assert [d.deployment_id for d in platform.deployments] == ["1"]


@pytest.mark.parametrize(("change", "code", "says"), [
    ({"issuer": "https://moodle.elsewhere.example"}, 422, "is not on the host the configuration came from"),
    ({"jwks_uri": "ftp://127.0.0.1/certs"}, 422, "jwks_uri is not an http(s) URL"),
    ({"registration_endpoint": None}, 422, "has no registration_endpoint"),
    ({"https://purl.imsglobal.org/spec/lti-platform-configuration": None}, 422, "LTI platform configuration"),
])
def test_a_configuration_that_fails_the_checks_is_refused(app, client, moodle, change, code, says):
    for name, value in change.items():
        if value is None:
            moodle.server.document.pop(name)
        else:
            moodle.server.document[name] = value
    response = open_registration(client, moodle.url, "t")
    assert response.status_code == code
    assert says in unescape(response.get_data(as_text=True))
    assert "Nothing was registered" in response.get_data(as_text=True)


def test_a_configuration_that_is_not_json_is_refused(client, moodle):
    moodle.server.config_body = "<html>Moodle is in maintenance mode</html>"
    response = open_registration(client, moodle.url, "t")
    assert response.status_code == 422 and "is not valid JSON" in response.get_data(as_text=True)


def test_an_unreachable_lms_is_a_clear_4xx(client):
    response = open_registration(client, f"http://127.0.0.1:{free_port()}/mod/lti/openid-configuration.php", "t")
    assert 400 <= response.status_code < 500
    assert "did not answer" in response.get_data(as_text=True)


def test_a_refused_registration_shows_the_platforms_reason(app, client, moodle):
    moodle.server.registration_answer = (400, {"error": "invalid_client_metadata",
                                               "error_description": "domain must match target_link_uri"})
    page = open_registration(client, moodle.url, "t").get_data(as_text=True)
    response = confirm(client, page)
    assert response.status_code == 422
    assert "domain must match target_link_uri" in unescape(response.get_data(as_text=True))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Platform.id))) == 0


def test_an_answer_without_a_client_id_is_refused(app, client, moodle):
    moodle.server.registration_answer = (200, {"response_types": ["id_token"]})
    response = confirm(client, open_registration(client, moodle.url, "t").get_data(as_text=True))
    assert response.status_code == 422 and "no client_id" in response.get_data(as_text=True)


def test_the_confirmation_needs_csrf_and_the_get_needs_a_configuration(client, moodle):
    page = open_registration(client, moodle.url, "t").get_data(as_text=True)
    response = client.post("/lti/register", data={"openid_configuration": moodle.url, "registration_token": "t"})
    assert response.status_code == 400 and moodle.server.registration_request is None
    missing = client.get("/lti/register")
    assert missing.status_code == 400 and "openid_configuration" in missing.get_data(as_text=True)
    assert 'name="csrf_token"' in page


def test_an_existing_registration_is_not_re_pointed(app, client, moodle):
    from lti.operations import register_platform

    with app.app_context():
        register_platform(issuer=moodle.base, client_id="hrFBRNoJ3CKg48m", auth_login_url="https://a.example/auth",
                          auth_token_url="https://a.example/token", key_set_url="https://a.example/jwks",
                          deployment_ids=["1"])
        db.session.commit()
    response = confirm(client, open_registration(client, moodle.url, "t").get_data(as_text=True))
    assert response.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(Platform)).key_set_url == "https://a.example/jwks"


# --- Against the sandbox, then a launch from the new registration ---------------------------


def start_in_sandbox(client, shape: str) -> tuple[str, str]:
    """The sandbox admin's "register a tool by URL": returns (openid_configuration, token)."""
    assert f"/sandbox/{shape}/register-tool" in client.get("/sandbox/").get_data(as_text=True)
    form = client.get(f"/sandbox/{shape}/register-tool").get_data(as_text=True)
    assert 'value="http://127.0.0.1:' in form and '/lti/register"' in form
    page = client.post(f"/sandbox/{shape}/register-tool", data={})
    assert page.status_code == 200, page.get_data(as_text=True)
    frame = unescape(re.search(r'<iframe[^>]+src="([^"]+)"', page.get_data(as_text=True)).group(1))
    query = parse_qs(urlsplit(frame).query)
    assert urlsplit(frame).path == "/lti/register"
    return query["openid_configuration"][0], query["registration_token"][0]


def register_with_sandbox(app, client, shape: str) -> SandboxToolRegistration:
    url, token = start_in_sandbox(client, shape)
    page = open_registration(client, url, token)
    assert page.status_code == 200, page.get_data(as_text=True)
    done = confirm(client, page.get_data(as_text=True))
    assert done.status_code == 200, done.get_data(as_text=True)
    with app.app_context():
        registration = db.session.scalar(sa.select(SandboxToolRegistration))
        db.session.expunge(registration)
        return registration


@pytest.mark.parametrize("shape", ["moodle", "canvas"])
def test_a_platform_registered_by_url_launches(app, client, shape):
    registration = register_with_sandbox(app, client, shape)
    base = app.config["BASE_URL"]
    with app.app_context():
        platform = db.session.scalar(sa.select(Platform).where(Platform.client_id == registration.client_id))
        assert platform.issuer == f"{base}/sandbox/{shape}" and platform.product_family == shape
        assert platform.key_set_url == f"{base}/sandbox/{shape}/jwks"
        assert [d.deployment_id for d in platform.deployments] == [registration.deployment_id]
    assert registration.configuration[TOOL_CONFIGURATION]["domain"] == urlsplit(base).netloc

    listed = client.get("/sandbox/registered").get_data(as_text=True)
    assert registration.client_id in listed and f"/sandbox/registered/{registration.id}/launch/amara" in listed
    response = follow_sandbox_launch(client, f"/sandbox/registered/{registration.id}/launch/amara")
    assert response.status_code == 302, response.get_data(as_text=True)
    home = client.get(response.headers["Location"], follow_redirects=True)
    assert home.status_code == 200 and "My internship journal" in home.get_data(as_text=True)
    with app.app_context():
        deployment = db.session.scalar(sa.select(Deployment).where(Deployment.deployment_id == registration.deployment_id))
        assert deployment.platform.client_id == registration.client_id


def test_canvas_gives_its_configuration_only_with_the_registration_token(app, client):
    url, token = start_in_sandbox(client, "canvas")
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # Without the token the tool cannot read the configuration either, and says so.
    refused = open_registration(client, url)
    assert refused.status_code == 403 and "registration token" in refused.get_data(as_text=True)
    # With it, the tool sends it on the GET (the sandbox answers only then) and on the POST.
    page = open_registration(client, url, token)
    assert page.status_code == 200 and "canvas" in page.get_data(as_text=True)
    assert confirm(client, page.get_data(as_text=True)).status_code == 200


def test_a_used_registration_token_is_refused_by_the_platform(app, client):
    url, token = start_in_sandbox(client, "moodle")
    page = open_registration(client, url, token).get_data(as_text=True)
    assert confirm(client, page).status_code == 200
    again = confirm(client, page)
    assert again.status_code == 422
    assert "refused the registration (HTTP 401)" in again.get_data(as_text=True)
    with app.app_context():
        registered = sa.select(sa.func.count(Platform.id)).where(Platform.client_id.not_in(sandbox.CLIENT_IDS.values()))
        assert db.session.scalar(registered) == 1


def test_the_sandbox_checks_the_registration_request(app, client):
    url, token = start_in_sandbox(client, "moodle")
    endpoint = client.get(url).get_json()["registration_endpoint"]
    response = client.post(urlsplit(endpoint).path, json={"application_type": "native", "client_name": "x"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 400
    assert "response_types must contain id_token" in response.get_json()["error_description"]


# --- Canvas developer key -------------------------------------------------------------------


def test_the_canvas_developer_key_json(app, client):
    response = client.get("/lti/canvas.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    config = response.get_json()
    base = app.config["BASE_URL"]
    assert config["title"] == "Internship portfolio" and config["description"]
    assert (config["oidc_initiation_url"], config["target_link_uri"], config["public_jwk_url"]) == \
        (base + "/lti/login", base + "/lti/launch", base + "/lti/jwks")
    assert set(config["scopes"]) == set(dynamic_registration.SCOPES)
    [canvas] = config["extensions"]
    assert (canvas["platform"], canvas["privacy_level"]) == ("canvas.instructure.com", "public")
    placements = {p["placement"]: p["message_type"] for p in canvas["settings"]["placements"]}
    assert placements == {"course_navigation": "LtiResourceLinkRequest", "link_selection": "LtiDeepLinkingRequest",
                          "assignment_selection": "LtiDeepLinkingRequest"}
    assert config["custom_fields"] == {"canvas_user_timezone": "$Person.address.timezone"}
    assert client.get(canvas["settings"]["icon_url"].removeprefix(base)).status_code == 200
