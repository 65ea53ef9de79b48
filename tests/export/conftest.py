from __future__ import annotations

import pytest

from portfolio.db import db


@pytest.fixture(autouse=True)
def inline_jobs(app):
    """Jobs run at once in tests, so every assertion sees the finished state."""
    saved = {key: app.config.get(key) for key in ("JOBS_MODE", "EXPORT_TIMEOUT", "EXPORT_MEMORY_MB")}
    app.config.update(JOBS_MODE="inline", EXPORT_TIMEOUT=120, EXPORT_MEMORY_MB=1536)
    yield
    app.config.update(saved)


def export_now(app, course_id: int, intern_id: int, scope: str = "everything", as_user: int | None = None):
    """Ask for and render an export as ``as_user`` (default: the intern); return (job id, PDF bytes or None)."""
    from portfolio.export import operations
    from portfolio.export.models import ExportJob, JobState, Scope
    from portfolio.people.models import Membership, User

    with app.app_context():
        membership = db.session.scalar(db.select(Membership).where(
            Membership.course_id == course_id, Membership.user_id == (as_user or intern_id)))
        job = operations.request_export(membership, db.session.get(User, intern_id), Scope(scope))
        db.session.commit()
        operations.start(job)
        job_id = job.id
    with app.app_context():
        job = db.session.get(ExportJob, job_id)
        if job.state is not JobState.done:
            return job_id, None
        return job_id, operations.file_path(job.export.file_name).read_bytes()


@pytest.fixture
def build(app):
    """Run a builder inside an app context and commit."""

    def run(function, *args, **kwargs):
        with app.app_context():
            result = function(*args, **kwargs)
            db.session.commit()
            return result

    return run
