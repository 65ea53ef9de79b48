"""``flask --app portfolio admin …``: the outbox and the audit log from a shell, as the
admin pages show them (without a platform, the shell sees every platform)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from portfolio.admin import operations, queries
from portfolio.db import db
from portfolio.errors import DomainError
from portfolio.grading.models import ScoreDelivery
from portfolio.notify.models import OutboxMessage

admin_cli = AppGroup("admin", help="The outbox and the audit log.")


@admin_cli.command("outbox")
@click.option("--platform", "platform_id", type=int, required=True, help="The platform's id (lti list-platforms).")
@click.option("--state", type=click.Choice(["pending", "sending", "failed"]), default=None)
def outbox(platform_id: int, state: str | None):
    """Mails and scores waiting or failed for the platform's courses."""
    mails = db.session.scalars(queries.mails(platform_id, state)).all()
    scores = db.session.scalars(queries.scores(platform_id, state)).all()
    for m in mails:
        click.echo(f"mail {m.id}\t{m.state.value}\tattempts={m.attempts}\tto={m.recipient}\t{m.subject}"
                   + (f"\terror={m.last_error}" if m.last_error else ""))
    for d in scores:
        click.echo(f"score {d.id}\t{d.state.value}\tattempts={d.attempts}\tgrade={d.grade_id}"
                   + (f"\terror={d.last_error}" if d.last_error else ""))
    if not mails and not scores:
        click.echo("nothing waiting or failed")


@admin_cli.command("retry")
@click.argument("kind", type=click.Choice(["mail", "score"]))
@click.argument("row_id", type=int)
def retry(kind: str, row_id: int):
    """Send a failed or waiting mail or score again now."""
    row = db.session.get(OutboxMessage if kind == "mail" else ScoreDelivery, row_id)
    if row is None:
        raise click.ClickException(f"no {kind} {row_id}")
    try:
        (operations.retry_mail if kind == "mail" else operations.retry_score)(row, via="cli")
    except DomainError as error:
        raise click.ClickException(str(error.description)) from error
    db.session.commit()
    click.echo(f"{kind} {row_id} will be sent again")


@admin_cli.command("audit")
@click.option("--platform", "platform_id", type=int, default=None)
@click.option("--course", "course_id", type=int, default=None)
@click.option("--action", default="", help="Actions starting with this, e.g. entry.")
@click.option("--person", "person_id", type=int, default=None, help="Who acted, or whom it is about.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="Last day shown.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100)
def audit(platform_id, course_id, action, person_id, since, until, limit):
    """The audit trail, newest first, one JSON object a line."""
    from datetime import timedelta, timezone

    events = db.session.scalars(queries.audit(
        platform_id, action=action, course_id=course_id, person_id=person_id,
        since=since.replace(tzinfo=timezone.utc) if since else None,
        until=until.replace(tzinfo=timezone.utc) + timedelta(days=1) if until else None, limit=limit)).all()
    for e in events:
        click.echo(json.dumps({"id": e.id, "at": e.at.isoformat(), "course_id": e.course_id, "actor_id": e.actor_id,
                               "actor_role": e.actor_role, "action": e.action, "about_id": e.about_id,
                               "subject": [e.subject_type, e.subject_id], "via": e.via, "details": e.details},
                              ensure_ascii=False, sort_keys=True))
