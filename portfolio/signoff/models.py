from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, enum_column, intpk, timestamp
from portfolio.people.models import User


class Supervision(Base):
    """Who supervises an intern in a course. One is current at a time; replacing the
    supervisor ends the current one (and kills its links)."""

    __tablename__ = "supervision"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    intern_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    supervisor_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    source: Mapped[str] = mapped_column(sa.String(16), default="invitation")  # invitation | mentor
    created_at: Mapped[timestamp]
    ended_at: Mapped[datetime | None]

    intern: Mapped[User] = relationship(foreign_keys=[intern_id])
    supervisor: Mapped[User] = relationship(foreign_keys=[supervisor_id])

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class SignInLink(Base):
    """A single-use sign-in link for a supervisor in one course. Only its hash is stored."""

    __tablename__ = "sign_in_link"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    supervision_id: Mapped[int] = mapped_column(sa.ForeignKey("supervision.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[timestamp]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    supervision: Mapped[Supervision] = relationship()


class DecisionKind(enum.Enum):
    approved = "approved"
    changes_requested = "changes_requested"


class Decision(Base):
    """One decision per submission of an entry revision: the unique constraint makes the
    first of two simultaneous decisions the only one."""

    __tablename__ = "decision"
    __table_args__ = (sa.UniqueConstraint("entry_id", "submission"),)

    id: Mapped[intpk]
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    submission: Mapped[int]  # the entry's submission count when it was decided
    kind: Mapped[DecisionKind] = mapped_column(enum_column(DecisionKind))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_by_name: Mapped[str] = mapped_column(sa.String(255))  # as shown then, kept if the user goes
    decided_at: Mapped[timestamp]
    comment: Mapped[str | None] = mapped_column(sa.Text)
    content_hash: Mapped[str] = mapped_column(sa.String(64))  # sha256 of exactly what was decided on
    via: Mapped[str] = mapped_column(sa.String(16))  # link | launch | web
    hours_corrections: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # task position → hours

    decided_by: Mapped[User | None] = relationship()
