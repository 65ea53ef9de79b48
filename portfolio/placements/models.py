from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, intpk, timestamp, utcnow
from portfolio.people.models import Membership, Role, User


class Placement(Base):
    __tablename__ = "placement"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "intern_id"),
        sa.CheckConstraint("end_date >= start_date", name="dates_in_order"),
    )

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    intern_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    host_organisation: Mapped[str] = mapped_column(sa.String(255))
    country: Mapped[str] = mapped_column(sa.String(2))  # ISO 3166-1 alpha-2
    city: Mapped[str] = mapped_column(sa.String(255), default="")
    start_date: Mapped[date]
    end_date: Mapped[date]
    hours_per_week: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))
    timezone: Mapped[str] = mapped_column(sa.String(64))  # IANA, at the host
    work_language: Mapped[str] = mapped_column(sa.String(35), default="")
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    intern: Mapped[User] = relationship()

    def can_view(self, membership: Membership | None) -> bool:
        """The intern sees their own; advisors and admins see every placement of the course."""
        return membership is not None and membership.course_id == self.course_id and (
            membership.user_id == self.intern_id or membership.role in (Role.advisor, Role.admin)
        )

    def can_edit(self, membership: Membership | None) -> bool:
        """The intern keeps their own placement; advisors may correct any of their course."""
        return self.can_view(membership)
