"""Placement changes. They check, change, flush and audit; the view commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

import sqlalchemy as sa

from portfolio.audit.operations import record_event
from portfolio.db import db
from portfolio.errors import ensure
from portfolio.people.models import Membership, Role, User
from portfolio.placements.models import Placement


@dataclass(frozen=True)
class PlacementData:
    host_organisation: str
    country: str
    city: str
    start_date: date
    end_date: date
    hours_per_week: Decimal
    timezone: str
    work_language: str


@cache
def _placement_of() -> sa.Select:
    # Built once: the journal's pages ask on every visit.
    return sa.select(Placement).where(Placement.course_id == sa.bindparam("course_id", type_=sa.Integer),
                                      Placement.intern_id == sa.bindparam("intern_id", type_=sa.Integer))


def placement_of(course_id: int, intern_id: int) -> Placement | None:
    return db.session.scalar(_placement_of(), {"course_id": course_id, "intern_id": intern_id})


def save_placement(intern: User, data: PlacementData, *, by: Membership) -> Placement:
    """An intern keeps their own placement; the course's advisors may correct anyone's."""
    intern_membership = db.session.scalar(
        sa.select(Membership).where(Membership.course_id == by.course_id, Membership.user_id == intern.id)
    )
    ensure(intern_membership is not None and intern_membership.role is Role.intern)
    placement = placement_of(by.course_id, intern.id)
    created = placement is None
    if created:
        placement = Placement(course_id=by.course_id, intern_id=intern.id)
        ensure(placement.can_edit(by))
        db.session.add(placement)
    else:
        ensure(placement.can_edit(by))
    changes = {}
    for name, value in data.__dict__.items():
        if getattr(placement, name, None) != value:
            changes[name] = str(value)
            setattr(placement, name, value)
    db.session.flush()
    if created or changes:
        record_event("placement.created" if created else "placement.changed", by=by,
                     subject=placement, via="web", intern_id=intern.id, changes=changes)
    return placement
