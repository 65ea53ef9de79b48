from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.db import Base, intpk, timestamp


class AuditEvent(Base):
    """Who did what, when, in which role and through which door (launch, link, cli).
    Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE outside maintenance."""

    __tablename__ = "audit_event"

    id: Mapped[intpk]
    at: Mapped[timestamp] = mapped_column(index=True)
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id", ondelete="SET NULL"), index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    actor_role: Mapped[str | None] = mapped_column(sa.String(32))
    # The intern the event is about (their entry, placement, supervisor), for the advisor's view.
    about_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    subject_type: Mapped[str | None] = mapped_column(sa.String(64))
    subject_id: Mapped[int | None]
    via: Mapped[str | None] = mapped_column(sa.String(32))
    details: Mapped[dict] = mapped_column(sa.JSON, default=dict)
