"""The application factory, production start-up checks, error pages and the layout rule."""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys

import pytest

from portfolio import ROOT, create_app

LONG_SECRET = "s" * 48


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.parametrize("overrides, words", [
    ({"SECRET_KEY": None}, "PORTFOLIO_SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "PORTFOLIO_SECRET_KEY"),
    ({"SECRET_KEY": LONG_SECRET, "SANDBOX": True}, "PORTFOLIO_SANDBOX"),
])
def test_production_refuses_to_start(tmp_path, overrides, words):
    config = {"ENV_NAME": "production", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db", **overrides}
    with pytest.raises(SystemExit) as exit_info:
        create_app(config)
    message = str(exit_info.value.code)
    assert words in message and "\n" not in message


def run_wsgi(tmp_path, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
    environment.update(PORTFOLIO_INSTANCE_DIR=str(tmp_path), **env)
    return subprocess.run([sys.executable, "-c", "import portfolio.wsgi"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_production_refuses_an_unmigrated_database_in_one_line(tmp_path):
    result = run_wsgi(tmp_path, PORTFOLIO_ENV="production", PORTFOLIO_SECRET_KEY=LONG_SECRET,
                      PORTFOLIO_DATABASE_URL=f"sqlite:///{tmp_path}/empty.db")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "portfolio: refusing to start in production: the database is not migrated; "
        "run 'flask --app portfolio db upgrade' first"
    ]


def test_production_starts_on_a_migrated_database(tmp_path):
    env = dict(PORTFOLIO_ENV="production", PORTFOLIO_SECRET_KEY=LONG_SECRET,
               PORTFOLIO_DATABASE_URL=f"sqlite:///{tmp_path}/ok.db")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTFOLIO_")}
    environment.update(PORTFOLIO_INSTANCE_DIR=str(tmp_path), **env)
    upgraded = subprocess.run([sys.executable, "-m", "flask", "--app", "portfolio", "db", "upgrade"], cwd=ROOT,
                              env=environment, capture_output=True, text=True, timeout=120)
    assert upgraded.returncode == 0, upgraded.stderr
    assert run_wsgi(tmp_path, **env).returncode == 0


def test_production_refuses_the_sandbox_from_the_environment(tmp_path):
    result = run_wsgi(tmp_path, PORTFOLIO_ENV="production", PORTFOLIO_SECRET_KEY=LONG_SECRET, PORTFOLIO_SANDBOX="1",
                      PORTFOLIO_DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert result.returncode == 1
    assert "PORTFOLIO_SANDBOX is on" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_configuration_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTFOLIO_DATABASE_URL", f"sqlite:///{tmp_path}/env.db")
    monkeypatch.setenv("PORTFOLIO_BASE_URL", "https://portfolio.example.edu/")
    monkeypatch.setenv("PORTFOLIO_STORAGE_DIR", str(tmp_path / "files"))
    monkeypatch.setenv("PORTFOLIO_SANDBOX", "0")
    monkeypatch.setenv("PORTFOLIO_SECRET_KEY", LONG_SECRET)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/env.db"
    assert app.config["BASE_URL"] == "https://portfolio.example.edu"
    assert app.config["STORAGE_DIR"] == str(tmp_path / "files") and (tmp_path / "files").is_dir()
    assert app.config["SANDBOX"] is False and "sandbox" not in app.blueprints
    assert app.config["SESSION_COOKIE_SAMESITE"] == "None" and app.config["SESSION_COOKIE_PARTITIONED"]


def test_sqlite_runs_in_wal_mode(tmp_path):
    import sqlalchemy as sa

    from portfolio.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/wal.db", "SECRET_KEY": LONG_SECRET})
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_error_pages_have_a_reference_in_the_log_and_no_traceback(tmp_path, caplog):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/e.db", "SECRET_KEY": LONG_SECRET})

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    client = app.test_client()
    with caplog.at_level(logging.INFO):
        response = client.get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Traceback" not in page and "secret internal detail" not in page
    reference = response.headers["X-Request-Id"]
    assert reference in page
    assert any(reference == getattr(r, "request_id", None) and r.exc_info for r in caplog.records)

    missing = client.get("/nowhere")
    assert missing.status_code == 404 and missing.headers["X-Request-Id"] in missing.get_data(as_text=True)
    assert client.post("/healthz").status_code == 405


def test_portfolio_never_imports_lti():
    offenders = []
    for path in (ROOT / "portfolio").rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                if name == "lti" or name.startswith("lti."):
                    inside_factory = path == ROOT / "portfolio" / "__init__.py"
                    if not inside_factory:
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert offenders == []


def test_the_factory_imports_lti_only_to_register_it():
    source = (ROOT / "portfolio" / "__init__.py").read_text()
    imports = [line.strip() for line in source.splitlines() if line.strip().startswith(("import lti", "from lti"))]
    assert imports == ["import lti"]


def test_every_python_package_is_in_the_build():
    """pyproject lists packages by hand (templates/ and migrations/ are mapped into the
    wheel); a new feature package must be listed too, or installs from a wheel break."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("portfolio", "lti")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed, f"missing from pyproject.toml: {sorted(found - listed)}"
