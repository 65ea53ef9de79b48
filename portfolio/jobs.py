"""Background jobs: slow work (rendering PDFs) runs outside the request that asked for it.

A job is a registered function called with keyword arguments that are plain values
(ids, strings), so the same call can later go to Celery unchanged. Each run gets its own
application context, hence its own database session, and commits its own work.

``JOBS_MODE``: ``thread`` (default) runs jobs in a small in-process pool; ``inline`` runs
them at once in the caller's thread (tests, command line). The pool's size is
``JOBS_WORKERS``.
"""

from __future__ import annotations

import logging
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from flask import Flask, current_app

log = logging.getLogger(__name__)

_registry: dict[str, Callable[..., None]] = {}


def register(name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Make a function runnable as ``enqueue(name, ...)``."""

    def decorate(function: Callable[..., None]) -> Callable[..., None]:
        _registry[name] = function
        return function

    return decorate


def enqueue(name: str, **kwargs) -> Future | None:
    """Run the job ``name`` in the background (or now, in inline mode)."""
    if name not in _registry:
        raise KeyError(f"no job named {name!r}")
    app = current_app._get_current_object()
    if app.config.get("JOBS_MODE", "thread") == "inline":
        _run(app, name, kwargs)
        return None
    return _pool(app).submit(_run, app, name, kwargs)


def _pool(app: Flask) -> ThreadPoolExecutor:
    pool = app.extensions.get("jobs")
    if pool is None:
        pool = app.extensions.setdefault(
            "jobs", ThreadPoolExecutor(max_workers=int(app.config.get("JOBS_WORKERS", 2)),
                                       thread_name_prefix="portfolio-job"))
    return pool


def _run(app: Flask, name: str, kwargs: dict) -> None:
    # A fresh app context: its own session, removed on teardown whatever happens.
    with app.app_context():
        try:
            _registry[name](**kwargs)
        except Exception:
            # The job records its own failure where people can see it; this is the last resort.
            log.exception("job %s failed", name)
            from portfolio.db import db

            db.session.rollback()
