from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.db import Base, intpk, timestamp
from portfolio.people.models import Membership, Role


class Objective(Base):
    __tablename__ = "objective"
    __table_args__ = (
        sa.UniqueConstraint("course_id", "code"),
        sa.CheckConstraint("target >= 1", name="target_positive"),
    )

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    area: Mapped[str | None] = mapped_column(sa.String(255))  # the competency area, if any
    target: Mapped[int] = mapped_column(default=3)
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None]
    created_at: Mapped[timestamp]

    @property
    def is_retired(self) -> bool:
        return self.retired_at is not None

    @staticmethod
    def can_manage(membership: Membership | None) -> bool:
        """Advisors (and admins) shape the course's framework; interns only read it."""
        return membership is not None and membership.role in (Role.advisor, Role.admin)
