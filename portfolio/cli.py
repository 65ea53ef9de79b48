"""Flask commands of the application itself. They call operations and commit once."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from portfolio.cohort.cli import cohort_cli
from portfolio.notify.cli import notify_cli
from portfolio.people.cli import people_cli
from portfolio.admin.cli import admin_cli
from portfolio.privacy.cli import privacy_cli
from portfolio.schema import current_revisions, migration_heads

check_cli = AppGroup("check", help="Checks an operator runs before serving.")


@check_cli.command("schema")
def check_schema():
    """Exit 1 unless the database is at the newest migration."""
    from flask import current_app

    current, heads = current_revisions(current_app), migration_heads()
    if current != heads:
        raise click.ClickException(f"database at {sorted(current) or 'nothing'}, newest is {sorted(heads)}")
    click.echo("database schema is current")


def init_app(app: Flask) -> None:
    app.cli.add_command(check_cli)
    app.cli.add_command(cohort_cli)
    app.cli.add_command(notify_cli)
    app.cli.add_command(people_cli)
    app.cli.add_command(privacy_cli)
    app.cli.add_command(admin_cli)
