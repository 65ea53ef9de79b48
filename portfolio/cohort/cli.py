"""``flask cohort refresh``: the dashboard's figures, for deployments without the scheduler."""

from __future__ import annotations

import click
from flask.cli import AppGroup

cohort_cli = AppGroup("cohort", help="The cohort dashboard.")


@cohort_cli.command("refresh")
def refresh():
    """Compute the figures of every intern whose journal changed or whose week turned."""
    from portfolio.cohort import summary
    from portfolio.db import db

    click.echo(f"interns whose figures were computed: {summary.refresh_all(commit=db.session.commit)}")
