"""Inside the LMS frame when cookies are blocked, and the rules for outgoing calls."""

from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lti import http
from lti.launch import state_cookie_name
from tests.lti.test_launch_refused import assert_refused


def block_state_cookie(client, state: str) -> None:
    """What a browser blocking third-party cookies does: the cookie never comes back."""
    name = state_cookie_name(state)
    assert client.get_cookie(name, domain="127.0.0.1", path="/lti/") is not None
    client.delete_cookie(name, domain="127.0.0.1", path="/lti/")
    assert client.get_cookie(name, domain="127.0.0.1", path="/lti/") is None


def test_blocked_cookies_end_on_a_continue_page_not_an_error(app, client, make_client, lms):
    state, nonce = lms.login(client)
    block_state_cookie(client, state)
    response = lms.launch(client, state=state, nonce=nonce)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Continue in a new window" in page and 'target="_blank"' in page
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)

    window = make_client()  # a top-level window: first-party cookies
    opened = window.post("/lti/continue", data={"ticket": ticket})
    assert opened.status_code == 302
    assert window.get(opened.headers["Location"], follow_redirects=True).status_code == 200
    assert_refused(make_client().post("/lti/continue", data={"ticket": ticket}), "already used")


def test_launch_tickets_are_stored_hashed_and_expire(app, client, make_client, lms):
    from datetime import timedelta

    import sqlalchemy as sa

    from lti.models import LaunchTicket
    from portfolio.db import db, utcnow

    state, nonce = lms.login(client)
    block_state_cookie(client, state)
    page = lms.launch(client, state=state, nonce=nonce).get_data(as_text=True)
    ticket = re.search(r'name="ticket" value="([^"]+)"', page).group(1)
    with app.app_context():
        assert ticket not in db.session.scalars(sa.select(LaunchTicket.token_hash)).all()
        db.session.execute(sa.update(LaunchTicket).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_refused(make_client().post("/lti/continue", data={"ticket": ticket}), "expired")


def test_with_cookies_the_launch_signs_in_directly(client, lms):
    response = lms.launch(client)
    assert response.status_code == 302
    session_cookie = response.headers.getlist("Set-Cookie")
    assert any("portfolio_session=" in c and "SameSite=None" in c and "Secure" in c and "Partitioned" in c
               for c in session_cookie)


class _Redirector(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path == "/hang":
            self.server.release.wait(5)
        if self.path.startswith("/away"):
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_address[1]}/keys")
            self.end_headers()
            return
        if self.path.startswith("/same"):
            self.send_response(302)
            self.send_header("Location", "/keys")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"keys": []}')

    def log_message(self, *args):
        pass


@pytest.fixture
def remote():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    server.release = threading.Event()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.release.set()
    server.shutdown()


def test_redirects_to_another_host_are_refused(app, remote):
    with app.app_context():
        with pytest.raises(http.UnsafeURL, match="redirect"):
            http.session().get(remote + "/away")
        assert http.session().get(remote + "/same").json() == {"keys": []}


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://lms.example/keys", "gopher://x", "/relative"])
def test_only_http_urls_are_fetched(app, url):
    with app.app_context(), pytest.raises(http.UnsafeURL):
        http.session().get(url)


def test_every_call_has_a_timeout(app, remote):
    import requests

    app.config["LTI_HTTP_TIMEOUT"] = (1, 0.3)
    try:
        with app.app_context(), pytest.raises(requests.Timeout):
            http.session().get(remote + "/hang")
    finally:
        app.config["LTI_HTTP_TIMEOUT"] = (5, 15)


def test_a_key_set_that_does_not_answer_gives_a_clear_page(app, client, lms):
    lms.server.delay = 1
    app.config["LTI_HTTP_TIMEOUT"] = (1, 0.3)
    try:
        response = lms.launch(client)
    finally:
        app.config["LTI_HTTP_TIMEOUT"] = (5, 15)
    assert response.status_code == 502
    assert "public keys could not be fetched" in response.get_data(as_text=True)
