"""A test LMS: an RSA key of its own, a key set served over HTTP on loopback (counting
fetches), and helpers that run the real OIDC login and post a real signed id_token."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt
from flask import Flask

from lti.keys import generate_rsa_pem, key_id, public_jwk

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ISSUER = "https://lms.test.example"
CLIENT_ID = "test-client-42"
DEPLOYMENT_ID = "deployment-1"
REMOVE = object()
LTI_CLAIMS = {"roles", "context", "resource_link", "message_type", "version", "deployment_id",
              "target_link_uri", "launch_presentation", "custom", "role_scope_mentor"}


class _KeySetHandler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        server = self.server
        server.fetches += 1
        if server.delay:
            time.sleep(server.delay)
        body = json.dumps({"keys": [public_jwk(pem, kid) for pem, kid in server.published]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class TestPlatform:
    __test__ = False

    def __init__(self, app: Flask, issuer: str = ISSUER, client_id: str = CLIENT_ID):
        self.app = app
        self.issuer, self.client_id = issuer, client_id
        self.pem = generate_rsa_pem()
        self.kid = key_id(self.pem)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _KeySetHandler)
        self.server.fetches = 0
        self.server.delay = 0
        self.server.published = [(self.pem, self.kid)]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.key_set_url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        self.register()

    def register(self, deployment_ids=(DEPLOYMENT_ID,)):
        from lti.operations import register_platform
        from portfolio.db import db

        with self.app.app_context():
            platform, _ = register_platform(
                issuer=self.issuer, client_id=self.client_id,
                auth_login_url=self.issuer + "/auth", auth_token_url=self.issuer + "/token",
                key_set_url=self.key_set_url, deployment_ids=list(deployment_ids), name="Test LMS",
            )
            db.session.commit()
            self.id = platform.id

    @property
    def fetches(self) -> int:
        return self.server.fetches

    def rotate(self) -> None:
        """The LMS rotates its key and publishes only the new one."""
        self.pem = generate_rsa_pem()
        self.kid = key_id(self.pem)
        self.server.published = [(self.pem, self.kid)]

    def close(self) -> None:
        self.server.shutdown()

    # --- the protocol ----------------------------------------------------------------

    def login(self, client, method="GET", **params):
        """Run the OIDC login initiation; return (state, nonce) from the redirect."""
        query = {
            "iss": self.issuer, "login_hint": "hint-1", "client_id": self.client_id,
            "target_link_uri": self.app.config["BASE_URL"] + "/lti/launch",
            "lti_deployment_id": DEPLOYMENT_ID,
        }
        query.update(params)
        query = {k: v for k, v in query.items() if v is not None}
        if method == "GET":
            response = client.get("/lti/login", query_string=query)
        else:
            response = client.post("/lti/login", data=query)
        assert response.status_code == 302, response.get_data(as_text=True)
        sent = parse_qs(urlsplit(response.headers["Location"]).query)
        return sent["state"][0], sent["nonce"][0]

    def claims(self, nonce: str, **overrides) -> dict:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": "user-1",
            "nonce": nonce,
            "iat": now,
            "exp": now + 60,
            "name": "Test Person",
            "email": "person@example.test",
            CLAIM + "message_type": "LtiResourceLinkRequest",
            CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": DEPLOYMENT_ID,
            CLAIM + "target_link_uri": self.app.config["BASE_URL"] + "/lti/launch",
            CLAIM + "resource_link": {"id": "link-1", "title": "Portfolio"},
            CLAIM + "roles": [LIS + "membership#Learner"],
            CLAIM + "context": {"id": "course-1", "label": "INT", "title": "Internship"},
            CLAIM + "launch_presentation": {"locale": "en", "document_target": "iframe"},
            "https://example.test/unknown-claim": {"anything": True},
        }
        for name, value in overrides.items():
            key = CLAIM + name if name in LTI_CLAIMS else name
            if value is REMOVE:
                claims.pop(key, None)
            else:
                claims[key] = value
        return claims

    def sign(self, claims: dict, *, pem: str | None = None, kid: str | None = "default", alg: str = "RS256",
             headers: dict | None = None) -> str:
        header = dict(headers or {})
        if kid == "default":
            kid = self.kid
        if kid is not None:
            header["kid"] = kid
        return jwt.encode(claims, pem or self.pem, algorithm=alg, headers=header)

    def launch(self, client, *, state=None, nonce=None, token=None, **claim_overrides):
        """Login, then post a signed token; claim overrides are applied to a valid claim set."""
        if state is None:
            state, nonce = self.login(client)
        if token is None:
            token = self.sign(self.claims(nonce, **claim_overrides))
        return client.post("/lti/launch", data={"id_token": token, "state": state})
