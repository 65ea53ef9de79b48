"""What privacy itself records: who acknowledged which notice version, how long each
course keeps its data, and the archive files written before a course's data goes."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, intpk, timestamp, utcnow
from portfolio.people.models import Course, Membership, Role

# Raise when the notice's text changes in substance: everyone is then asked again.
NOTICE_VERSION = "2026-11"
# The roles the university has no agreement with but the LMS's own terms: they see the notice.
NOTICE_ROLES = (Role.intern, Role.supervisor)
DEFAULT_KEEP_DAYS = 365


class PrivacyAcknowledgement(Base):
    """A person read the notice of ``version``; one row per person and version."""

    __tablename__ = "privacy_acknowledgement"
    __table_args__ = (sa.UniqueConstraint("user_id", "version"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(sa.String(32))
    acknowledged_at: Mapped[timestamp]


class CourseRetention(Base):
    """How long a course's personal data outlives the course, and what retention did so far.

    The course ends on ``course_end`` when an admin set it, else on the last day of its
    latest placement (the LMS tells us no end date)."""

    __tablename__ = "course_retention"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), unique=True)
    keep_days: Mapped[int] = mapped_column(default=DEFAULT_KEEP_DAYS)
    course_end: Mapped[date | None]
    archived_at: Mapped[datetime | None]
    purged_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    course: Mapped[Course] = relationship()

    def purge_after(self, end: date | None) -> date | None:
        """The first day the course's data may go, given the course's end."""
        return end + timedelta(days=self.keep_days) if end is not None else None

    @staticmethod
    def can_manage(membership: Membership | None) -> bool:
        """Only a platform's admins set retention."""
        return membership is not None and membership.role is Role.admin


class CourseArchive(Base):
    """One archive file of a course, kept under ``STORAGE_DIR/archives/``: an intern's
    portfolio PDF or their data zip. Listed for the admin; it stays after the purge."""

    __tablename__ = "course_archive"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    # Kept as a number only: the user row is pseudonymised or gone once the course is purged.
    intern_ref: Mapped[int | None]
    kind: Mapped[str] = mapped_column(sa.String(16))  # pdf | data
    file_name: Mapped[str] = mapped_column(sa.String(255))  # relative to STORAGE_DIR/archives/
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.String(255))  # why a PDF is missing
    created_at: Mapped[timestamp]
