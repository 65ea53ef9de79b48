from __future__ import annotations

from typing import Any

from portfolio.audit.models import AuditEvent
from portfolio.db import db


def record_event(
    action: str,
    *,
    by=None,
    actor=None,
    course=None,
    subject=None,
    via: str | None = None,
    about=None,
    **details: Any,
) -> AuditEvent:
    """Append one event to the trail; it commits with the change it describes.

    ``by``: the membership acting, which says who, in which course and in which role
    (else ``actor`` and ``course``, and the role is looked up). ``about`` is the intern
    concerned; by default the subject's intern, if it has one.
    """
    about_id = getattr(about, "id", None)
    if about_id is None and subject is not None:
        about_id = getattr(subject, "intern_id", None) or getattr(getattr(subject, "entry", None), "intern_id", None)
    role = None
    if by is not None:
        actor, course, role = by.user, by.course, by.role.value
    elif actor is not None and course is not None:
        found = actor.role_in(course)
        role = found.value if found else None
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_role=role,
        course_id=getattr(course, "id", None),
        subject_type=type(subject).__name__ if subject is not None else None,
        subject_id=getattr(subject, "id", None),
        about_id=about_id,
        via=via,
        details=details,
    )
    db.session.add(event)
    return event


def allow_maintenance() -> None:
    """Let this transaction rewrite or remove audit rows (erasure, retention).

    On PostgreSQL a trigger keeps the trail append-only unless the transaction says so;
    SQLite has no such guard."""
    import sqlalchemy as sa

    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL portfolio.audit_maintenance = 'on'"))
