from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, enum_column, intpk, timestamp, utcnow
from portfolio.people.models import User

# Points with two decimals, read back as float (scores go to the LMS as JSON numbers).
Points = sa.Numeric(8, 2, asdecimal=False)


class Rubric(Base):
    """A course's rubric: one per course, edited by its advisors."""

    __tablename__ = "rubric"

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="rubric", cascade="all, delete-orphan", order_by="Criterion.position")

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.criteria)


class Criterion(Base):
    __tablename__ = "rubric_criterion"

    id: Mapped[intpk]
    rubric_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")

    rubric: Mapped[Rubric] = relationship(back_populates="criteria")
    levels: Mapped[list[Level]] = relationship(
        back_populates="criterion", cascade="all, delete-orphan", order_by="Level.position")

    @property
    def max_points(self) -> float:
        return max((level.points for level in self.levels), default=0.0)


class Level(Base):
    __tablename__ = "rubric_level"

    id: Mapped[intpk]
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_criterion.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    points: Mapped[float] = mapped_column(Points, default=0)

    criterion: Mapped[Criterion] = relationship(back_populates="levels")


class GradeState(enum.Enum):
    draft = "draft"        # only advisors see it
    released = "released"  # the intern sees it, and it goes to the LMS


class Grade(Base):
    """An advisor's grade of one intern's portfolio in a course."""

    __tablename__ = "grade"
    __table_args__ = (sa.UniqueConstraint("course_id", "intern_id"),)

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    intern_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    state: Mapped[GradeState] = mapped_column(enum_column(GradeState), default=GradeState.draft)
    score: Mapped[float] = mapped_column(Points, default=0)
    score_maximum: Mapped[float] = mapped_column(Points, default=0)
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    graded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    released_at: Mapped[datetime | None]

    intern: Mapped[User] = relationship(foreign_keys=[intern_id])
    graded_by: Mapped[User | None] = relationship(foreign_keys=[graded_by_id])
    marks: Mapped[list[Mark]] = relationship(back_populates="grade", cascade="all, delete-orphan")
    delivery: Mapped[ScoreDelivery | None] = relationship(back_populates="grade", cascade="all, delete-orphan",
                                                          uselist=False)

    @property
    def is_released(self) -> bool:
        return self.state is GradeState.released


class Mark(Base):
    """The level chosen for one criterion of a grade, with the advisor's feedback on it."""

    __tablename__ = "grade_mark"
    __table_args__ = (sa.UniqueConstraint("grade_id", "criterion_id"),)

    id: Mapped[intpk]
    grade_id: Mapped[int] = mapped_column(sa.ForeignKey("grade.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("rubric_criterion.id", ondelete="CASCADE"), index=True)
    level_id: Mapped[int | None] = mapped_column(sa.ForeignKey("rubric_level.id", ondelete="SET NULL"))
    feedback: Mapped[str] = mapped_column(sa.Text, default="")

    grade: Mapped[Grade] = relationship(back_populates="marks")
    criterion: Mapped[Criterion] = relationship()
    level: Mapped[Level | None] = relationship()


class DeliveryState(enum.Enum):
    pending = "pending"  # waiting for its next attempt
    sending = "sending"  # claimed by one worker
    synced = "synced"    # the LMS accepted the latest score
    failed = "failed"    # the LMS refused it, or every attempt failed: an advisor may retry


class ScoreDelivery(Base):
    """The outbox row of a released grade: the score the LMS must hold, and how sending
    it went. Written in the same transaction as the release or change that causes it.
    ``timestamp`` only increases, so the LMS keeps the newest score and ignores a resend."""

    __tablename__ = "score_delivery"
    __table_args__ = (sa.Index("ix_score_delivery_due", "state", "next_attempt_at"),)

    id: Mapped[intpk]
    grade_id: Mapped[int] = mapped_column(sa.ForeignKey("grade.id", ondelete="CASCADE"), unique=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    state: Mapped[DeliveryState] = mapped_column(enum_column(DeliveryState), default=DeliveryState.pending)
    score_given: Mapped[float] = mapped_column(Points)
    score_maximum: Mapped[float] = mapped_column(Points)
    comment: Mapped[str | None] = mapped_column(sa.Text)
    timestamp: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    receipt: Mapped[str | None] = mapped_column(sa.String(255))
    synced_at: Mapped[datetime | None]
    created_at: Mapped[timestamp]

    grade: Mapped[Grade] = relationship(back_populates="delivery")
