from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, enum_column, intpk, timestamp
from portfolio.people.models import Course, Membership, Role, User


class Scope(enum.Enum):
    everything = "everything"  # the newest revision of every week written
    approved = "approved"      # only approved weeks, each at its newest approved revision


class JobKind(enum.Enum):
    portfolio = "portfolio"  # one intern's PDF
    cohort = "cohort"        # a zip of every intern's PDF in the course


class JobState(enum.Enum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"


def can_export(membership: Membership | None, intern_id: int) -> bool:
    """An intern their own portfolio; advisors and admins any intern's of the course; a
    supervisor the interns they supervise."""
    if membership is None:
        return False
    if membership.role is Role.intern:
        return membership.user_id == intern_id
    if membership.role in (Role.advisor, Role.admin):
        return True
    return intern_id in membership.supervised_intern_ids


def can_export_cohort(membership: Membership | None) -> bool:
    """Only advisors and admins export the whole cohort."""
    return membership is not None and membership.role in (Role.advisor, Role.admin)


class Export(Base):
    """One rendered PDF, kept under its content hash so an unchanged portfolio is not
    rendered twice. Verification needs only the code printed on the cover and the hashes."""

    __tablename__ = "export"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    intern_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))
    locale: Mapped[str] = mapped_column(sa.String(35))
    content_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # of everything the PDF shows
    verification_code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    pdf_sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    data_sha256: Mapped[str] = mapped_column(sa.String(64))  # of the embedded JSON attachment
    file_name: Mapped[str] = mapped_column(sa.String(100))  # under STORAGE_DIR/export/
    size: Mapped[int]
    pages: Mapped[int]
    created_at: Mapped[timestamp]  # the issue date printed on the cover

    course: Mapped[Course] = relationship()
    intern: Mapped[User] = relationship()


class ExportJob(Base):
    """Someone's request for a PDF (or a cohort zip), and how rendering it is going."""

    __tablename__ = "export_job"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    intern_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))  # None: cohort
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind))
    scope: Mapped[Scope] = mapped_column(enum_column(Scope))
    state: Mapped[JobState] = mapped_column(enum_column(JobState), default=JobState.queued)
    progress: Mapped[int] = mapped_column(default=0)  # percent
    message: Mapped[str | None] = mapped_column(sa.Text)  # why it failed
    content_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    export_id: Mapped[int | None] = mapped_column(sa.ForeignKey("export.id", ondelete="SET NULL"))
    file_name: Mapped[str | None] = mapped_column(sa.String(100))  # the cohort zip
    created_at: Mapped[timestamp]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    export: Mapped[Export | None] = relationship()
    intern: Mapped[User | None] = relationship(foreign_keys=[intern_id])

    def can_view(self, membership: Membership | None) -> bool:
        """The person who asked, while they may still export what it holds."""
        if membership is None or membership.course_id != self.course_id or membership.user_id != self.requested_by_id:
            return False
        if self.kind is JobKind.cohort:
            return can_export_cohort(membership)
        return can_export(membership, self.intern_id)

    @property
    def is_finished(self) -> bool:
        return self.state in (JobState.done, JobState.failed)
