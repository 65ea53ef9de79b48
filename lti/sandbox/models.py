"""What the sandbox LMS keeps of its gradebook: the line items (grade columns) of its
course, per LMS shape, and every score a tool posted to them.

A score is applied only when its timestamp is newer than the last one applied for the
same person and line item (AGS 2.0, §3.4.4); older or equal ones are kept too, marked
ignored, so the gradebook page shows what a resend or a late retry did.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, intpk, timestamp


class SandboxLineItem(Base):
    __tablename__ = "sandbox_line_item"
    __table_args__ = (sa.UniqueConstraint("shape", "context_id", "key"),)

    id: Mapped[intpk]
    shape: Mapped[str] = mapped_column(sa.String(16))
    context_id: Mapped[str] = mapped_column(sa.String(255))
    key: Mapped[str] = mapped_column(sa.String(64))  # the last segment of the line item's URL
    label: Mapped[str] = mapped_column(sa.String(255))
    score_maximum: Mapped[float] = mapped_column(sa.Float)
    resource_link_id: Mapped[str | None] = mapped_column(sa.String(255))
    resource_id: Mapped[str | None] = mapped_column(sa.String(255))
    tag: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[timestamp]

    scores: Mapped[list[SandboxScore]] = relationship(
        back_populates="line_item", cascade="all, delete-orphan", order_by="SandboxScore.id")


class SandboxScore(Base):
    __tablename__ = "sandbox_score"

    id: Mapped[intpk]
    line_item_id: Mapped[int] = mapped_column(sa.ForeignKey("sandbox_line_item.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(255))  # the person's LTI sub
    score_given: Mapped[float | None] = mapped_column(sa.Float)
    score_maximum: Mapped[float | None] = mapped_column(sa.Float)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    activity_progress: Mapped[str] = mapped_column(sa.String(32))
    grading_progress: Mapped[str] = mapped_column(sa.String(32))
    timestamp: Mapped[datetime]
    timestamp_text: Mapped[str] = mapped_column(sa.String(64))  # as sent, to show its precision
    applied: Mapped[bool]
    received_at: Mapped[timestamp]

    line_item: Mapped[SandboxLineItem] = relationship(back_populates="scores")
