from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, enum_column, intpk, str255, timestamp, utcnow


class Role(enum.Enum):
    intern = "intern"
    advisor = "advisor"
    supervisor = "supervisor"
    admin = "admin"


class User(UserMixin, Base):
    __tablename__ = "user"
    __table_args__ = (sa.UniqueConstraint("platform_id", "lti_sub"),)

    id: Mapped[intpk]
    # NULL for people who never came through an LMS (invited supervisors).
    platform_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platform.id", ondelete="CASCADE"))
    lti_sub: Mapped[str | None] = mapped_column(sa.String(255))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    email: Mapped[str | None] = mapped_column(sa.String(320))
    # What the LMS or the browser says; the person's own choice, when made, wins.
    locale: Mapped[str | None] = mapped_column(sa.String(35))
    timezone: Mapped[str | None] = mapped_column(sa.String(64))
    preferred_locale: Mapped[str | None] = mapped_column(sa.String(35))
    preferred_timezone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[timestamp]
    last_seen_at: Mapped[datetime | None]

    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def display_name(self) -> str:
        """Name, else email, else a neutral label: anonymous launches carry only ``sub``."""
        return self.name or self.email or f"Participant {self.id}"

    @property
    def effective_locale(self) -> str | None:
        return self.preferred_locale or self.locale

    @property
    def effective_timezone(self) -> str | None:
        return self.preferred_timezone or self.timezone

    def membership_in(self, course: Course) -> Membership | None:
        return next((m for m in self.memberships if m.course_id == course.id), None)

    def role_in(self, course: Course) -> Role | None:
        membership = self.membership_in(course)
        return membership.role if membership else None


class PersonRow(NamedTuple):
    """A person read as a plain row, for lists that only name them."""

    id: int
    name: str | None
    email: str | None

    @property
    def display_name(self) -> str:
        return User.display_name.fget(self)  # the one rule, for rows as for users


class Course(Base):
    __tablename__ = "course"
    __table_args__ = (sa.UniqueConstraint("platform_id", "deployment_id", "context_id"),)

    id: Mapped[intpk]
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[int] = mapped_column(sa.ForeignKey("deployment.id", ondelete="CASCADE"))
    context_id: Mapped[str255]
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    label: Mapped[str | None] = mapped_column(sa.String(255))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    created_at: Mapped[timestamp]
    # A new random value whenever the course's objectives change (``portfolio.objectives``):
    # what a process keeps of them is read again when the stamp it was kept under moves.
    objectives_stamp: Mapped[str] = mapped_column(sa.String(16), default="", server_default="")

    memberships: Mapped[list[Membership]] = relationship(back_populates="course", cascade="all, delete-orphan")

    @property
    def display_title(self) -> str:
        return self.title or self.label or self.context_id


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("user_id", "course_id"),)

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    course: Mapped[Course] = relationship(back_populates="memberships")
    # A supervisor's current supervisions in this course (declared by name: sign-off owns the model).
    supervisions: Mapped[list["Supervision"]] = relationship(  # noqa: F821
        "Supervision",
        primaryjoin="and_(Membership.user_id == foreign(Supervision.supervisor_id), "
                    "Membership.course_id == foreign(Supervision.course_id), Supervision.ended_at.is_(None))",
        viewonly=True,
    )

    @property
    def supervised_intern_ids(self) -> set[int]:
        return {s.intern_id for s in self.supervisions} if self.role is Role.supervisor else set()

    def can_view_cohort(self) -> bool:
        """Advisors and admins see every intern of the course."""
        return self.role in (Role.advisor, Role.admin)

    def can_administer(self) -> bool:
        """Only admins manage platforms, deployments and keys."""
        return self.role is Role.admin
