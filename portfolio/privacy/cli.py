"""``flask --app portfolio privacy …``: answer access and erasure requests and run
retention from a shell. Each command commits once (retention: once per course)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from portfolio.db import db
from portfolio.errors import DomainError
from portfolio.people.models import Course, User
from portfolio.privacy import operations

privacy_cli = AppGroup("privacy", help="Personal data: export, erasure, retention.")


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise click.ClickException(f"no person {user_id}")
    return user


@privacy_cli.command("export-person")
@click.argument("user_id", type=int)
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="Where to write the zip.")
@click.option("--no-pdf", is_flag=True, help="Leave out the portfolio PDF (faster).")
def export_person(user_id: int, out: str, no_pdf: bool):
    """Write everything the tool holds about one person as a zip."""
    data = operations.export_person(_user(user_id), via="cli", with_pdf=not no_pdf)
    db.session.commit()
    Path(out).write_bytes(data)
    click.echo(f"person {user_id}: {len(data)} bytes written to {out}")


@privacy_cli.command("erase-person")
@click.argument("user_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def erase_person(user_id: int, yes: bool):
    """Erase one person: delete their content, pseudonymise what others need."""
    user = _user(user_id)
    if not yes:
        click.confirm(f"Erase person {user_id} ({user.display_name})? This cannot be undone", abort=True)
    try:
        counts = operations.erase_person(user, via="cli")
    except DomainError as error:
        raise click.ClickException(str(error.description)) from error
    db.session.commit()
    click.echo(f"person {user_id} erased: " + ", ".join(f"{k}={v}" for k, v in counts.items()))


retention_cli = AppGroup("retention", help="How long each course keeps its data after it ends.")
privacy_cli.add_command(retention_cli)


@retention_cli.command("set")
@click.option("--course", "course_id", type=int, required=True)
@click.option("--keep-days", type=click.IntRange(0, 36500), required=True)
@click.option("--course-end", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The course's last day, when the placements do not tell it (YYYY-MM-DD).")
def set_retention(course_id: int, keep_days: int, course_end):
    """Set how many days after its end a course's data is kept."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise click.ClickException(f"no course {course_id}")
    operations.set_retention(course, keep_days=keep_days, course_end_date=course_end.date() if course_end else None,
                             via="cli")
    db.session.commit()
    click.echo(f"course {course_id}: data kept {keep_days} days after the end")


def _describe(plan) -> str:
    end = plan.end.isoformat() if plan.end else "unknown end"
    after = plan.purge_after.isoformat() if plan.purge_after else "never (no end date)"
    state = "purged" if plan.retention.purged_at else ("due" if plan.due else "kept")
    return (f"course {plan.course.id} ({plan.course.display_title}): ends {end}, keep {plan.retention.keep_days} days, "
            f"delete from {after}: {state}; {plan.interns} interns, {plan.entries} weeks, {plan.files} files")


@retention_cli.command("list")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None)
def list_retention(today):
    """Every course with a retention setting and whether it is due."""
    plans = operations.plan_retention(today.date() if today else None)
    if not plans:
        click.echo("no course has a retention setting")
    for plan in plans:
        click.echo(_describe(plan))


@retention_cli.command("run")
@click.option("--dry-run", is_flag=True, help="Only list what would be archived and deleted.")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Act as if today were this date (YYYY-MM-DD).")
def run_retention(dry_run: bool, today):
    """Archive, then delete, the personal data of every course past its retention."""
    outcomes = operations.run_retention(today.date() if today else None, dry_run=dry_run, via="cli",
                                        commit=db.session.commit)
    if dry_run:
        db.session.rollback()
    if not outcomes:
        click.echo("nothing is due")
    failed = False
    for plan, outcome in outcomes:
        failed = failed or outcome.startswith("archive failed")
        click.echo(f"{_describe(plan)} -> {outcome}")
    if failed:
        raise SystemExit(1)


@retention_cli.command("archive")
@click.option("--course", "course_id", type=int, required=True)
def archive_course(course_id: int):
    """Archive a course's portfolios now (PDF and data zip per intern); nothing is deleted."""
    course = db.session.get(Course, course_id)
    if course is None:
        raise click.ClickException(f"no course {course_id}")
    try:
        written = operations.archive_course(course, via="cli")
    except DomainError as error:
        raise click.ClickException(str(error.description)) from error
    db.session.commit()
    for archive in written:
        click.echo(f"{archive.kind}\t{archive.file_name}\t{archive.size} bytes")


@privacy_cli.command("find-person")
@click.argument("query", default="")
@click.option("--platform", "platform_id", type=int, required=True, help="The platform's id (lti list-platforms).")
def find_person(query: str, platform_id: int):
    """People of a platform whose name or email contains QUERY: their numbers for the other commands."""
    from portfolio.privacy import queries

    people = db.session.scalars(queries.people_of_platform(platform_id, query.strip()).limit(200)).all()
    for person in people:
        click.echo(f"{person.id}\t{person.display_name}\t{person.email or '-'}")
    if not people:
        click.echo("nobody found")
