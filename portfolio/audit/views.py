from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, render_template
from sqlalchemy.orm import aliased

from portfolio.audit.queries import events_about_intern
from portfolio.db import db
from portfolio.errors import ensure
from portfolio.people.access import load_membership
from portfolio.people.models import Membership, Role, User

bp = Blueprint("audit", __name__)


@bp.get("/c/<int:course_id>/interns/<int:intern_id>/audit")
def intern(course_id: int, intern_id: int):
    """The advisor reads the whole trail of one intern: who, in which role, what, when, how."""
    membership = load_membership(course_id)
    ensure(membership.role in (Role.advisor, Role.admin))
    intern_membership = db.session.scalar(sa.select(Membership).where(
        Membership.course_id == course_id, Membership.user_id == intern_id, Membership.role == Role.intern)) or abort(404)
    events = db.session.scalars(events_about_intern(course_id, intern_id)).all()
    actor = aliased(User)
    names = dict(db.session.execute(sa.select(actor.id, sa.func.coalesce(actor.name, actor.email)).where(
        actor.id.in_({e.actor_id for e in events if e.actor_id} or {-1}))).all())
    return render_template("audit/audit_list.html", course=membership.course, membership=membership,
                           intern=intern_membership.user, events=events, names=names)
