"""The documented gunicorn configuration, serving for real: two app servers on the same
database answer for the same signed-in person (nothing is kept in a process), and every
access-log line carries the request id the app returns and logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from portfolio.people.models import Role
from tests.conftest import free_port
from tests.scale.conftest import ROOT, wait_for


def _serve(app, port: int, access_log: Path) -> subprocess.Popen:
    config = app.config
    env = dict(os.environ, PORTFOLIO_DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
               PORTFOLIO_INSTANCE_DIR=app.instance_path, PORTFOLIO_STORAGE_DIR=config["STORAGE_DIR"],
               PORTFOLIO_SECRET_KEY=config["SECRET_KEY"], PORTFOLIO_BASE_URL=config["BASE_URL"],
               GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_ACCESS_LOG=str(access_log))
    env.pop("PORTFOLIO_REDIS_URL", None)
    return subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                             "portfolio.wsgi:app"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).ok
    except requests.RequestException:
        return False


def test_two_app_servers_serve_the_same_person_and_log_the_request_id(app, make_member, tmp_path):
    intern = make_member(Role.intern)
    with app.test_request_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": str(intern.user_id)})
    ports = [free_port(), free_port()]
    servers = [_serve(app, port, tmp_path / f"access-{port}.log") for port in ports]
    try:
        for port in ports:
            wait_for(lambda: _ready(port), 60, f"gunicorn on port {port}")
        for port in ports:
            for _ in range(3):  # new connections: any of the server's worker processes may answer
                response = requests.get(f"http://127.0.0.1:{port}/c/{intern.course_id}/journal", timeout=10,
                                        headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}",
                                                 "Connection": "close"}, allow_redirects=False)
                assert response.status_code == 200
        traced = requests.get(f"http://127.0.0.1:{ports[0]}/healthz", headers={"X-Request-Id": "trace0123abcd"},
                              timeout=10)
        assert traced.headers["X-Request-Id"] == "trace0123abcd"
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    log = (tmp_path / f"access-{ports[0]}.log").read_text()
    assert '"GET /healthz HTTP/1.1" 200' in log and "request_id=trace0123abcd" in log
    assert f'"GET /c/{intern.course_id}/journal HTTP/1.1" 200' in log
