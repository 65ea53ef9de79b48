"""A real Celery worker (or beat) for the tests, with two things of the outside world
replaced: the LMS accepts every score, and, when asked, the PDF render first waits
(``SCALE_RENDER_DELAY`` seconds, after touching ``SCALE_RENDER_STARTED``), so that a test
can kill the worker in the middle of an export.

    python tests/scale/worker.py worker|beat [celery options]

Everything else comes from the environment, as for ``celery -A portfolio.jobs:celery``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


class AcceptingLMS:
    def grades_supported(self, course) -> bool:
        return True

    def send_score(self, course, score) -> str:
        return f"200 OK from pid {os.getpid()}"

    def roster_supported(self, course) -> bool:
        return False

    def fetch_roster(self, course):
        return []


def main() -> None:
    from portfolio import create_app, jobs, lms

    app = create_app({"SANDBOX": False})
    lms.register(app, AcceptingLMS())
    delay = float(os.environ.get("SCALE_RENDER_DELAY") or 0)
    if delay:
        from portfolio.export import render

        original = render.render_pdf

        def slow_render_pdf(*args, **kwargs):
            Path(os.environ["SCALE_RENDER_STARTED"]).write_text(str(os.getpid()))
            time.sleep(delay)
            return original(*args, **kwargs)

        render.render_pdf = slow_render_pdf
    jobs.bind(app)
    jobs.celery.start(sys.argv[1:])


if __name__ == "__main__":
    main()
