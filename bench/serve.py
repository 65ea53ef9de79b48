"""What the benchmarks serve with gunicorn: the portfolio app, plus a bare Flask
hello-world at ``/hello/`` in the same process, the yardstick the pages are measured
against (``gunicorn -c gunicorn.conf.py bench.serve:app``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import Flask  # noqa: E402
from werkzeug.middleware.dispatcher import DispatcherMiddleware  # noqa: E402

from portfolio.wsgi import app as portfolio_app  # noqa: E402

hello = Flask("hello")


@hello.get("/")
def hello_world():
    return "Hello, World!"


app = DispatcherMiddleware(portfolio_app, {"/hello": hello})
