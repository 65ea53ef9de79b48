"""``flask people …``: the course rosters. Run ``sync-rosters`` once a day (cron, a
systemd timer): it brings in the people the LMS lists who never opened the tool, so
advisors see the whole cohort from the first day."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from portfolio import lms
from portfolio.db import db
from portfolio.lms import DeliveryDeferred, DeliveryRefused
from portfolio.people.models import Course
from portfolio.people.operations import sync_roster

people_cli = AppGroup("people", help="People and course rosters.")


@people_cli.command("sync-rosters")
def sync_rosters():
    """Sync every course whose LMS offers its roster; one commit per course.

    A course the LMS cannot answer for is reported and left as it was; the others go on.
    Exits 1 when any course failed, so the scheduler notices.
    """
    connection = lms.current()
    failed = 0
    for course_id in db.session.scalars(sa.select(Course.id).order_by(Course.id)).all():
        course = db.session.get(Course, course_id)
        if not connection.roster_supported(course):
            continue
        try:
            members = connection.fetch_roster(course)
        except (DeliveryDeferred, DeliveryRefused) as refusal:
            db.session.rollback()
            failed += 1
            click.echo(f"course {course.id} ({course.display_title}): not synced: {refusal.message}", err=True)
            continue
        result = sync_roster(course, members, by=None, via="cli")
        db.session.commit()
        click.echo(f"course {course.id} ({course.display_title}): added {result.added}, updated {result.updated}, "
                   f"unchanged {result.unchanged}, skipped {result.skipped}")
    if failed:
        raise SystemExit(1)
