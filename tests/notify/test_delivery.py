"""Delivery through the outbox against a real SMTP server on loopback: a server that is
down or refuses loses nothing, retries back off, a message is sent once even with two
workers, and a message left behind by a dead worker goes out later."""

from __future__ import annotations

import email
import logging
import socket
import socketserver
import threading
from datetime import timedelta
from email import policy

import pytest
import sqlalchemy as sa

from portfolio.db import db, utcnow
from portfolio.notify import delivery
from portfolio.notify.delivery import build_email, deliver_due, kick
from portfolio.notify.models import OutboxMessage, OutboxState
from tests.notify import make_person, outbox, queue_invitation


class SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server: SMTPServer = self.server
        if server.mode == "close":  # a server that hangs up at once
            return
        self.reply("220 test.example ESMTP")
        while line := self.rfile.readline():
            verb = line.decode("ascii", "replace").strip().split(" ")[0].upper()
            if verb == "EHLO":
                self.reply("250-test.example")
                self.reply("250 8BITMIME")
            elif verb in ("HELO", "RCPT", "RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "MAIL":
                self.reply("451 4.3.0 try again later" if server.mode == "451" else "250 OK")
            elif verb == "DATA":
                self.reply("354 go ahead")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                with server.lock:
                    server.received.append(data)
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class SMTPServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int, mode: str = "ok"):
        super().__init__(("127.0.0.1", port), SMTPHandler)
        self.mode, self.received, self.lock = mode, [], threading.Lock()
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def mails(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(raw, policy=policy.default) for raw in self.received]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app, monkeypatch):
    """A mail server on loopback; SMTP_URL points at it for the test."""
    server = SMTPServer(free_port())
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{server.server_address[1]}")
    yield server
    server.stop()


@pytest.fixture
def person(app):
    return make_person(app, name="Sam Supervisor", email="sam@host.example")


def deliver(app, **kwargs) -> int:
    with app.app_context():
        return deliver_due(**kwargs)


def test_a_mail_goes_out_once_as_text_and_html(app, smtp, person):
    message_id = queue_invitation(app, person)
    assert deliver(app) == 1
    assert deliver(app) == 0

    [mail] = smtp.mails()
    assert mail.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["To"] == "sam@host.example" and mail["From"] == "portfolio@localhost"
    assert mail["Subject"] == "Amara Okafor asks you to sign off their internship journal"
    assert mail["Message-ID"].startswith(f"<outbox.{message_id}.") and mail["Auto-Submitted"] == "auto-generated"
    assert "https://portfolio.example/signin/abc" in mail.get_body(("plain",)).get_content()
    assert '<html lang="en">' in mail.get_body(("html",)).get_content()

    [row] = outbox(app)
    assert (row.state, row.transport, row.attempts, row.last_error) == (OutboxState.sent, "smtp", 0, None)
    assert row.sent_at is not None


def test_the_message_id_is_the_same_for_a_resend(app, person):
    message_id = queue_invitation(app, person, key="invitation:42")
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert build_email(message)["Message-ID"] == build_email(message)["Message-ID"]


def test_a_server_that_is_down_loses_nothing_and_later_gets_it_once(app, monkeypatch, person):
    port = free_port()  # nothing listens here yet
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{port}")
    queue_invitation(app, person)
    now = utcnow()

    assert deliver(app, now=now) == 0
    [row] = outbox(app)
    assert row.state is OutboxState.pending and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert now + timedelta(seconds=60) <= row.next_attempt_at <= now + timedelta(seconds=66)
    assert deliver(app, now=now + timedelta(seconds=30)) == 0  # not due yet: no second attempt
    assert outbox(app)[0].attempts == 1

    server = SMTPServer(port)
    try:
        assert deliver(app, now=now + timedelta(minutes=2)) == 1
        assert deliver(app, now=now + timedelta(days=1)) == 0
        assert len(server.received) == 1
    finally:
        server.stop()
    [row] = outbox(app)
    assert row.state is OutboxState.sent and row.attempts == 1 and row.last_error is None


def test_an_unreachable_server_stops_the_batch(app, monkeypatch, person):
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{free_port()}")
    for n in range(3):
        queue_invitation(app, person, key=f"invitation:{n}")
    assert deliver(app) == 0
    assert sorted(m.attempts for m in outbox(app)) == [0, 0, 1]
    assert all(m.state is OutboxState.pending for m in outbox(app))


@pytest.mark.parametrize("mode, error", [("451", "SMTPSenderRefused"), ("close", "SMTPServerDisconnected")])
def test_refusals_back_off_exponentially_then_give_up(app, smtp, person, mode, error):
    smtp.mode = mode
    queue_invitation(app, person)
    now, delays = utcnow(), []
    for attempt in range(1, 11):
        assert deliver(app, now=now) == 0
        [row] = outbox(app)
        assert row.attempts == attempt and error in row.last_error
        if attempt < 10:
            assert row.state is OutboxState.pending
            delays.append(row.next_attempt_at - now)
            now = row.next_attempt_at
    assert row.state is OutboxState.failed
    minutes = [d / timedelta(minutes=1) for d in delays]
    for n, expected in enumerate([1, 2, 4, 8, 16, 32, 64, 128, 256]):
        assert expected <= minutes[n] <= expected * 1.1 + 1e-6
    assert deliver(app, now=now + timedelta(days=30)) == 0  # failed for good: no more attempts
    assert smtp.received == []


def test_the_wait_is_capped_at_six_hours():
    assert delivery.retry_delay(9) <= timedelta(hours=6) * 1.1
    assert timedelta(hours=6) <= delivery.retry_delay(30) <= timedelta(hours=6) * 1.1


def test_two_workers_send_each_message_once(app, smtp, person):
    for n in range(20):
        queue_invitation(app, person, key=f"invitation:{n}")
    start, results = threading.Barrier(2), []

    def worker():
        with app.app_context():
            start.wait()
            results.append(deliver_due())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(results) == 20
    ids = [mail["Message-ID"] for mail in smtp.mails()]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert {m.state for m in outbox(app)} == {OutboxState.sent}


def test_a_message_left_sending_by_a_dead_worker_goes_out_later(app, smtp, person):
    now = utcnow()
    stuck, busy = queue_invitation(app, person, key="stuck"), queue_invitation(app, person, key="busy")
    with app.app_context():
        for message_id, claimed in ((stuck, now - timedelta(minutes=16)), (busy, now - timedelta(minutes=5))):
            db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                               .values(state=OutboxState.sending, next_attempt_at=claimed))
        db.session.commit()

    assert deliver(app, now=now) == 1
    states = {m.dedupe_key: m.state for m in outbox(app)}
    assert states == {"stuck": OutboxState.sent, "busy": OutboxState.sending}  # busy: its worker may still be at it


def test_without_smtp_the_sandbox_mailbox_receives_it(app, person):
    assert app.config["SMTP_URL"] is None and app.config["SANDBOX"]
    queue_invitation(app, person)
    assert deliver(app) == 1
    [row] = outbox(app)
    assert (row.state, row.transport) == (OutboxState.sent, "sandbox")


def test_with_nowhere_to_send_the_mail_waits(app, monkeypatch, person):
    monkeypatch.setitem(app.config, "SANDBOX", False)
    queue_invitation(app, person)
    now = utcnow()
    assert deliver(app, now=now) == 0
    [row] = outbox(app)
    assert (row.state, row.attempts, row.last_error) == (OutboxState.pending, 0, "no mail server configured")
    assert row.next_attempt_at > now


def kicked_response(app):
    """A request that kicks delivery; returns its response, not yet closed (not yet sent)."""
    with app.test_request_context("/"):
        kick()
        kick()  # twice in one request: one delivery
        return app.process_response(app.response_class("ok"))


def test_kick_delivers_once_the_response_is_sent(app, person, monkeypatch):
    queue_invitation(app, person)
    calls = []
    monkeypatch.setattr(delivery, "deliver_due", lambda: calls.append(1) or deliver_due())
    response = kicked_response(app)
    assert outbox(app)[0].state is OutboxState.pending
    response.close()
    assert calls == [1] and outbox(app)[0].state is OutboxState.sent


def test_kick_does_nothing_when_delivery_is_manual(app, person, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DELIVERY", "manual")
    queue_invitation(app, person)
    kicked_response(app).close()
    assert outbox(app)[0].state is OutboxState.pending


def test_kick_never_breaks_the_request(app, person, monkeypatch, caplog):
    def broken():
        raise RuntimeError("database gone")

    monkeypatch.setattr(delivery, "deliver_due", broken)
    with caplog.at_level(logging.ERROR, logger="portfolio.jobs"):
        kicked_response(app).close()
    assert "notify.deliver after the response failed" in caplog.text and "database gone" in caplog.text


def test_the_deliver_command(app, runner, person):
    queue_invitation(app, person)
    result = runner.invoke(args=["notify", "deliver"])
    assert result.exit_code == 0 and result.output.strip() == "1 sent"


def test_a_mail_queued_by_a_clock_a_little_ahead_goes_at_once(app, smtp, person):
    """Queued on an app server whose clock is two seconds ahead of the worker's: sent now,
    not at the next sweep."""
    queue_invitation(app, person)
    [row] = outbox(app)
    assert deliver(app, now=row.next_attempt_at - timedelta(seconds=2)) == 1
    assert len(smtp.mails()) == 1


def test_mail_goes_out_after_the_response_even_when_the_browser_resets_the_connection(app, make_member):
    """werkzeug's development server (``make run``, and these tests' server) skips closing a
    response when the browser resets the connection as it finishes reading. An intern's
    invitation, posted over a real socket that is then reset, still leaves the outbox."""
    import struct
    import time
    from urllib.parse import urlencode, urlsplit

    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    from portfolio.people.models import Role, User

    intern = make_member(Role.intern)
    agent = "reset-test"
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": agent}):
        login_user(db.session.get(User, intern.user_id))
        token = generate_csrf()
        cookie = app.session_interface.get_signing_serializer(app).dumps(dict(session))
        db.session.remove()
    body = urlencode({"csrf_token": token, "name": "Mere Parata", "email": "mere@kiwi.example",
                      "locale": "en"}).encode()
    host = urlsplit(app.config["BASE_URL"])
    request = (f"POST /c/{intern.course_id}/interns/{intern.user_id}/supervisor/invite HTTP/1.1\r\n"
               f"Host: {host.netloc}\r\nUser-Agent: {agent}\r\n"
               f"Cookie: {app.config['SESSION_COOKIE_NAME']}={cookie}\r\n"
               f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n")
    with socket.create_connection((host.hostname, host.port), timeout=10) as browser:
        browser.sendall(request.encode() + body)
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += browser.recv(65536)
        assert answer.startswith(b"HTTP/1.1 302"), answer[:300]
        browser.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close with a reset

    deadline = time.monotonic() + 10
    while [m.state for m in outbox(app)] != [OutboxState.sent] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [(m.kind, m.state) for m in outbox(app)] == [("invitation", OutboxState.sent)]


def test_files_reach_the_servers_own_file_wrapper_and_pages_close_once_sent(app):
    """The middleware that closes a page once it is sent leaves a file in the server's
    ``wsgi.file_wrapper`` (gunicorn sends it with sendfile), and closes a page once."""
    from werkzeug.test import EnvironBuilder

    class ServerFileWrapper:  # what a server such as gunicorn offers
        def __init__(self, filelike, block_size=8192):
            self.filelike, self.block_size = filelike, block_size

        def __iter__(self):
            return iter(lambda: self.filelike.read(self.block_size), b"")

        def close(self):
            self.filelike.close()

    def call(path: str):
        environ = EnvironBuilder(path=path, base_url=app.config["BASE_URL"]).get_environ()
        environ["wsgi.file_wrapper"] = ServerFileWrapper
        return app.wsgi_app(environ, lambda status, headers, exc_info=None: None)

    stylesheet = call("/static/css/app.css")
    assert type(stylesheet) is ServerFileWrapper
    stylesheet.close()

    page = call("/healthz")
    closed = []
    page._body.close = lambda: closed.append(True)  # what the page runs once it is sent
    assert b"".join(page) and closed == [True]
    page.close()  # the server closing it too runs nothing twice
    assert closed == [True]
