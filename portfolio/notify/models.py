from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.db import Base, enum_column, intpk, timestamp, utcnow


class OutboxState(enum.Enum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"  # gave up after the last attempt; an admin may retry


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "state", "next_attempt_at"),)

    id: Mapped[intpk]
    kind: Mapped[str] = mapped_column(sa.String(32), default="mail")
    # Same key, same message: a second enqueue of it is a no-op (a double click, a re-run job).
    dedupe_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("course.id", ondelete="SET NULL"), index=True)
    recipient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    recipient: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(35), default="en")
    state: Mapped[OutboxState] = mapped_column(enum_column(OutboxState), default=OutboxState.pending)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    transport: Mapped[str | None] = mapped_column(sa.String(16))  # smtp | sandbox, once sent
    created_at: Mapped[timestamp]
    sent_at: Mapped[datetime | None]
