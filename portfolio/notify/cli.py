"""``flask notify …``: deliver the outbox, and queue the Monday mails. Run ``reminders``
every hour (cron, a systemd timer): each recipient's Monday morning comes at a different
hour, and a second run the same morning queues nothing new."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from portfolio.db import db

notify_cli = AppGroup("notify", help="Mail: deliver the outbox, send reminders and digests.")


@notify_cli.command("deliver")
@click.option("--limit", default=50, show_default=True, help="Most messages to send in this run.")
def deliver(limit: int):
    """Send the mail that is due."""
    from portfolio.notify.delivery import deliver_due

    click.echo(f"{deliver_due(limit=limit)} sent")


@notify_cli.command("reminders")
def reminders():
    """Queue this hour's reminders and digests, commit, then deliver."""
    from portfolio.notify.delivery import deliver_due
    from portfolio.notify.schedule import send_digests, send_reminders

    # Links in mails are absolute; outside a request they are built against the public URL.
    with current_app.test_request_context(base_url=current_app.config["BASE_URL"] or "http://127.0.0.1:5000"):
        queued_reminders, queued_digests = send_reminders(), send_digests()
        db.session.commit()
    click.echo(f"reminders queued: {queued_reminders}, digests queued: {queued_digests}")
    click.echo(f"{deliver_due()} sent")
