"""The renderer loads nothing but data: URIs and our own prepared files: not the server's
files, not loopback, not the cloud metadata address, not through redirects, @import or
attachments. A listener on loopback proves nothing was even tried. And a portfolio that
cannot render ends as "failed" with a message, never as a hung worker."""

from __future__ import annotations

import io
import socket
import threading

import pypdf
import pytest

from portfolio.db import db
from portfolio.journal.models import Entry, EntryState
from tests.export import builders
from tests.export.conftest import export_now


class Listener:
    """A TCP listener on loopback that counts connections and answers each with a redirect."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            with conn:
                conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\nContent-Length: 0\r\n\r\n")

    def close(self):
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def hostile_html(port: int) -> str:
    base = f"http://127.0.0.1:{port}"
    return f"""
      <p>Hostile week marker</p>
      <img src="file:///etc/passwd" alt="passwd">
      <img src="{base}/image.png" alt="loopback">
      <img src="http://169.254.169.254/latest/meta-data/" alt="metadata">
      <img src="{base}/redirect-to-passwd" alt="redirect">
      <img src="ftp://127.0.0.1:{port}/x.png" alt="ftp">
      <style>@import url("{base}/import.css"); body {{ background: url("file:///etc/passwd"); }}
             @font-face {{ font-family: X; src: url("{base}/font.woff"); }}</style>
      <link rel="stylesheet" href="{base}/style.css">
      <link rel="attachment" href="file:///etc/passwd" title="passwd">
      <a rel="attachment" href="file:///etc/hostname">attached?</a>
      <object data="file:///etc/passwd"></object><embed src="{base}/embed"><iframe src="{base}/frame"></iframe>
      <svg><image href="{base}/svg.png" width="10" height="10"/></svg>
    """


def assert_clean(pdf: bytes, text: str) -> None:
    assert "root:" not in text and "/bin/" not in text
    assert b"root:x:0:0" not in pdf
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert list(reader.attachments) == ["portfolio.json"]


def test_hostile_reflection_and_evidence_fetch_nothing(app, build, listener):
    def portfolio():
        course, intern, supervisor, _advisor = builders.course_with_people()
        entry = builders.week_entry(course, intern, builders.date(2027, 3, 1), state=EntryState.approved,
                                    reflection="placeholder", tasks=[], decided_by=supervisor)
        # Written past the sanitiser, as an old row or a bug elsewhere might have left it.
        entry.reflection_html = hostile_html(listener.port)
        builders.add_evidence(entry, "file:///etc/passwd", b"not read", "image/jpeg", stored_name="../../../../etc/passwd")
        builders.add_evidence(entry, f"http://127.0.0.1:{listener.port}/evidence.png", b"x" * 10, "image/png",
                              stored_name="/etc/passwd")
        db.session.commit()
        return course.id, intern.id

    course_id, intern_id = build(portfolio)
    _job, pdf = export_now(app, course_id, intern_id)
    assert pdf is not None
    text = builders.pdftotext(pdf)
    assert "Hostile week marker" in text
    assert "file:///etc/passwd" in text  # the evidence is listed by its name, and that is all
    assert_clean(pdf, text)
    assert listener.connections == 0


def test_user_html_is_sanitised_before_the_template(app, build, listener):
    from portfolio.export import render
    from portfolio.export.models import Scope
    from portfolio.people.models import Course, User

    def portfolio():
        course, intern, supervisor, _advisor = builders.course_with_people()
        entry = builders.week_entry(course, intern, builders.date(2027, 3, 1), state=EntryState.draft,
                                    reflection="x", tasks=[])
        entry.reflection_html = hostile_html(listener.port) + '<script>alert(1)</script><p onclick="x()">hi</p>'
        db.session.commit()
        return course.id, intern.id

    course_id, intern_id = build(portfolio)
    with app.app_context():
        document, _ = render.build_document(db.session.get(Course, course_id), db.session.get(User, intern_id),
                                            Scope.everything)
    html = document["weeks"][0]["reflection_html"]
    for gone in ("<img", "<style", "<link", "<object", "<embed", "<iframe", "<svg", "<script", "onclick",
                 "@import", 'rel="attachment"'):
        assert gone not in html
    assert "Hostile week marker" in html


def test_the_fetcher_itself_refuses_everything_but_data_and_own_files(tmp_path, monkeypatch):
    from portfolio.export.fetcher import FetchRefused, SafeFetcher

    connections = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: connections.append(address))
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: connections.append(address))
    inside = tmp_path / "export" / "a.jpg"
    inside.parent.mkdir()
    inside.write_bytes(b"jpeg")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    fetcher = SafeFetcher({"good": str(inside), "escape": str(outside)}, root=str(inside.parent))

    assert fetcher.fetch("data:text/plain;base64,aGVsbG8=").read() == b"hello"
    assert fetcher.fetch("data:,a%20b").read() == b"a b"
    assert fetcher.fetch("stored:good").read() == b"jpeg"
    for url in ("file:///etc/passwd", "http://127.0.0.1:9/", "https://127.0.0.1/", "http://169.254.169.254/",
                "ftp://127.0.0.1/x", "stored:missing", "stored:escape", "STORED:../../etc/passwd",
                "//127.0.0.1/x", "/etc/passwd", "gopher://127.0.0.1:70/"):
        with pytest.raises(FetchRefused):
            fetcher.fetch(url)
    with pytest.raises(FetchRefused):
        import urllib.request

        fetcher.open(urllib.request.Request("http://127.0.0.1:9/redirect"))
    assert connections == []


def test_raw_html_through_the_renderer_fetches_nothing(app, listener, tmp_path, monkeypatch):
    """Even unsanitised HTML straight into WeasyPrint (in this process, so that any
    connection attempt at all, to any address, is caught)."""
    import multiprocessing

    from portfolio.export import render

    attempts = []
    real_connect = socket.socket.connect
    monkeypatch.setattr(socket.socket, "connect",
                        lambda self, address: attempts.append(address) or real_connect(self, address))
    html = f"<html><body><p>Raw marker</p>{hostile_html(listener.port)}</body></html>"
    receiver, sender = multiprocessing.Pipe(duplex=False)
    out = tmp_path / "raw.pdf"
    with app.app_context():
        root = str(render.export_root())
    render._child(html, {}, root, b"{}", str(out), 0, sender, "raw")
    kind, _value = receiver.recv()
    assert kind in ("progress", "done")
    pdf = out.read_bytes()
    assert_clean(pdf, builders.pdftotext(pdf))
    assert "Raw marker" in builders.pdftotext(pdf)
    assert attempts == [] and listener.connections == 0


def test_a_portfolio_that_takes_too_long_ends_as_failed(app, build):
    from portfolio.export.models import ExportJob, JobState

    built = build(builders.standard_portfolio, grade=False)
    app.config["EXPORT_TIMEOUT"] = 0.05
    job_id, pdf = export_now(app, built.course_id, built.intern_id)
    assert pdf is None
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job.state is JobState.failed
        assert "longer than" in job.message


def test_a_portfolio_that_needs_too_much_memory_ends_as_failed(app, build):
    from portfolio.export.models import ExportJob, JobState

    built = build(builders.standard_portfolio, grade=False)
    app.config["EXPORT_MEMORY_MB"] = 64  # less than WeasyPrint's own libraries take
    job_id, pdf = export_now(app, built.course_id, built.intern_id)
    assert pdf is None
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        assert job.state is JobState.failed
        assert "MB" in job.message
        assert db.session.scalar(db.select(db.func.count()).select_from(Entry)) == 5  # nothing else rolled back
