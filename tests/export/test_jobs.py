"""The background runner, and the export as a person goes through it: choose, wait on
the status page (progress polled as JSON), download."""

from __future__ import annotations

import re
import threading
import time

import pytest

from portfolio import jobs
from portfolio.db import db
from tests.conftest import Member
from tests.export import builders
from tests.journal.helpers import csrf_token


def test_inline_mode_runs_at_once_in_its_own_app_context(app):
    seen = []

    @jobs.register("test.record")
    def record(value):
        from flask import current_app

        seen.append((value, current_app.name, threading.current_thread().name))

    with app.app_context():
        assert jobs.enqueue("test.record", value=3) is None
    assert seen == [(3, app.name, threading.current_thread().name)]
    with app.app_context(), pytest.raises(KeyError):
        jobs.enqueue("test.no-such-job")


def test_thread_mode_runs_in_the_pool_and_a_failure_does_not_escape(app):
    done = threading.Event()

    @jobs.register("test.thread")
    def in_thread():
        assert threading.current_thread().name.startswith("portfolio-job")
        done.set()

    @jobs.register("test.boom")
    def boom():
        raise RuntimeError("boom")

    app.config["JOBS_MODE"] = "thread"
    with app.app_context():
        jobs.enqueue("test.boom").result(10)  # logged, not raised
        jobs.enqueue("test.thread").result(10)
    assert done.is_set()


def intern_client(app, make_client, login, built):
    return login(make_client(), Member(built.intern_id, built.course_id, 0, None))


def test_export_in_thread_mode_with_progress_on_the_status_page(app, build, make_client, login):
    built = build(builders.standard_portfolio)
    app.config["JOBS_MODE"] = "thread"
    client = intern_client(app, make_client, login, built)
    form = client.get(f"/c/{built.course_id}/interns/{built.intern_id}/export")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert 'value="approved"' in page and 'value="everything"' in page
    response = client.post(f"/c/{built.course_id}/interns/{built.intern_id}/export",
                           data={"csrf_token": csrf_token(page), "scope": "everything"})
    assert response.status_code == 302
    status_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'aria-live="polite"' in status_page and "<progress" in status_page
    assert "js/export.js" in status_page
    status_url = re.search(r'data-status-url="([^"]+)"', status_page).group(1)

    seen, deadline = [], time.monotonic() + 90
    while time.monotonic() < deadline:
        state = client.get(status_url).get_json()
        seen.append((state["state"], state["progress"]))
        if state["state"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert state["state"] == "done", state
    assert any(s in ("queued", "running") for s, _p in seen)  # it was not rendered inside the request
    progress = [p for _s, p in seen]
    assert progress == sorted(progress) and progress[-1] == 100

    final = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The document is ready." in final and "Verification code" in final
    download = client.get(state["download_url"])
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.data.startswith(b"%PDF-")


def test_a_failed_export_says_why_on_the_status_page(app, build, make_client, login):
    built = build(builders.standard_portfolio, grade=False)
    app.config["EXPORT_TIMEOUT"] = 0.05
    client = intern_client(app, make_client, login, built)
    page = client.get(f"/c/{built.course_id}/interns/{built.intern_id}/export").get_data(as_text=True)
    response = client.post(f"/c/{built.course_id}/interns/{built.intern_id}/export",
                           data={"csrf_token": csrf_token(page), "scope": "approved"})
    status = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The export failed: Rendering took longer than 0 seconds" in status
    assert client.get(response.headers["Location"] + "/download").status_code == 404


def test_the_export_speaks_the_interns_language(app, build):
    from tests.export.conftest import export_now

    built = build(builders.standard_portfolio, grade=False, locale="de")
    _job, pdf = export_now(app, built.course_id, built.intern_id)
    text = re.sub(r"\s+", " ", builders.pdftotext(pdf))
    assert "1. März 2027" in text  # the intern's date format
    assert "9,5" in text  # and decimal comma
    assert "Deutschland" in text
    with app.app_context():
        from portfolio.people.models import User

        assert db.session.get(User, built.intern_id).effective_locale == "de"


def test_a_job_whose_worker_died_is_reported_as_interrupted(app, build, make_client, login):
    from datetime import timedelta

    from portfolio.export.models import ExportJob, JobKind, JobState, Scope

    built = build(builders.standard_portfolio, grade=False)
    with app.app_context():
        job = ExportJob(course_id=built.course_id, requested_by_id=built.intern_id, intern_id=built.intern_id,
                        kind=JobKind.portfolio, scope=Scope.everything, state=JobState.running, progress=25,
                        started_at=builders.utcnow() - timedelta(hours=2))
        db.session.add(job)
        db.session.commit()
        job_id = job.id
    client = intern_client(app, make_client, login, built)
    state = client.get(f"/c/{built.course_id}/exports/{job_id}/status").get_json()
    assert state["state"] == "failed" and "interrupted" in state["message"]
