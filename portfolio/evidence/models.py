from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, intpk, timestamp
from portfolio.journal.models import Entry


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[intpk]
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    stored_name: Mapped[str] = mapped_column(sa.String(64), index=True)  # shared by revisions
    content_type: Mapped[str] = mapped_column(sa.String(127))  # detected from the content
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    thumbnail_name: Mapped[str | None] = mapped_column(sa.String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[timestamp]

    entry: Mapped[Entry] = relationship(backref=sa.orm.backref("evidence", cascade="all, delete-orphan",
                                                                  order_by="Evidence.id"))

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")
