"""``flask grading …``: send released grades to the LMS. Run ``deliver`` every few minutes
(cron, a systemd timer) so scores that waited for the LMS go out without anyone's click."""

from __future__ import annotations

import click
from flask.cli import AppGroup

grading_cli = AppGroup("grading", help="Grades: send released scores to the LMS gradebook.")


@grading_cli.command("deliver")
@click.option("--limit", default=50, show_default=True, help="Most scores to send in this run.")
def deliver(limit: int):
    """Send the scores that are due."""
    from portfolio.grading.passback import deliver_due

    click.echo(f"{deliver_due(limit=limit)} synced")
