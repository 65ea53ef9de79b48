"""Internship e-portfolio: interns journal their weeks abroad, supervisors sign them off,
advisors grade, and the LMS gets the grade. ``create_app`` builds the Flask app."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from portfolio import config as config_module
from portfolio.db import (begin_before_savepoint, check_connections_at_checkout, db, enable_sqlite_wal,
                          end_reads_with_commit)

PACKAGE = Path(__file__).resolve().parent
# A checkout keeps templates/, static/ and migrations/ at its top; a wheel carries them
# inside this package (see pyproject.toml).
CHECKOUT = (PACKAGE.parent / "pyproject.toml").is_file()
ROOT = PACKAGE.parent if CHECKOUT else PACKAGE


def create_app(config: dict | None = None) -> Flask:
    """The application factory: configuration, extensions, blueprints, error pages."""
    default_instance = PACKAGE.parent / "instance" if CHECKOUT else Path.cwd() / "instance"
    instance_path = os.environ.get("PORTFOLIO_INSTANCE_DIR") or str(default_instance)
    app = Flask(
        __name__,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_mapping(config_module.load(instance_path, config))
    if app.config["PRODUCTION"]:
        problems = config_module.production_problems(app.config)
        if problems:
            raise SystemExit(f"portfolio: refusing to start in production: {problems[0]}")
    Path(app.config["STORAGE_DIR"]).mkdir(parents=True, exist_ok=True)

    from portfolio import extensions, logs, models  # noqa: F401  (models: the full metadata)

    logs.init_app(app)
    _init_database(app)
    extensions.init_app(app)

    from portfolio import cli, errors, health, security, templating
    from portfolio.audit.views import bp as audit_bp
    from portfolio.cohort.views import bp as cohort_bp
    from portfolio.evidence.views import bp as evidence_bp
    from portfolio.export.views import bp as export_bp
    from portfolio.grading.cli import grading_cli
    from portfolio.grading.views import bp as grading_bp
    from portfolio.notify.views import bp as notify_bp
    from portfolio.journal.views import bp as journal_bp
    from portfolio.objectives.views import bp as objectives_bp
    from portfolio.people.views import bp as people_bp
    from portfolio.placements.views import bp as placements_bp
    from portfolio.privacy.views import bp as privacy_bp
    from portfolio.admin.views import bp as admin_bp
    from portfolio.signoff.views import bp as signoff_bp

    errors.register_error_handlers(app)
    security.init_app(app)
    templating.init_app(app)
    app.register_blueprint(health.bp)
    for blueprint in (people_bp, objectives_bp, placements_bp, journal_bp, evidence_bp, signoff_bp, notify_bp,
                      audit_bp, cohort_bp, export_bp, grading_bp, privacy_bp, admin_bp):
        app.register_blueprint(blueprint)
    cli.init_app(app)
    app.cli.add_command(grading_cli)

    # The LTI boundary: the only place the application knows about lti/.
    import lti

    lti.init_app(app)

    from portfolio.jobs import close_once_sent

    app.wsgi_app = close_once_sent(app.wsgi_app)  # deliveries after the response, whatever the server
    return app


def _init_database(app: Flask) -> None:
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("sqlite:///"):
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    postgres = uri.startswith(("postgresql", "postgres:"))
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options.setdefault("pool_pre_ping", not postgres)
    db.init_app(app)
    with app.app_context():
        end_reads_with_commit(app, db.engine)
        if db.engine.dialect.name == "sqlite":
            from sqlalchemy import event

            event.listen(db.engine, "connect", enable_sqlite_wal)
            event.listen(db.engine, "savepoint", begin_before_savepoint)
        elif db.engine.dialect.name == "postgresql" and not options["pool_pre_ping"]:
            check_connections_at_checkout(db.engine)
