from __future__ import annotations

import sqlalchemy as sa

from portfolio.audit.models import AuditEvent


def events_about_intern(course_id: int, intern_id: int, limit: int = 500) -> sa.Select:
    """What happened to an intern's journal in a course, and what they did, newest first."""
    return (
        sa.select(AuditEvent)
        .where(AuditEvent.course_id == course_id,
               sa.or_(AuditEvent.about_id == intern_id, AuditEvent.actor_id == intern_id))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
