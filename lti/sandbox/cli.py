"""``flask --app portfolio demo load``: the sandbox platforms and a demo course."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portfolio.db import db

demo_cli = AppGroup("demo", help="The demo course of the sandbox LMS.")


@demo_cli.command("load")
def load():
    """Register the sandbox platforms and create the demo course, its people and their journals."""
    if not current_app.config["SANDBOX"]:
        raise click.ClickException("the demo lives in the sandbox LMS: set PORTFOLIO_SANDBOX=1")
    from lti.sandbox.demo import load_demo

    with current_app.test_request_context(base_url=current_app.config["BASE_URL"] or "http://127.0.0.1:5000"):
        courses = load_demo()
        db.session.commit()
    click.echo(f"demo course {courses[0].display_title!r} ready on {len(courses)} platforms: open the sandbox LMS at "
               f"{current_app.config['BASE_URL'] or 'http://127.0.0.1:5000'}/sandbox/")
