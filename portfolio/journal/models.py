from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, enum_column, intpk, timestamp, utcnow
from portfolio.objectives.models import Objective
from portfolio.people.models import Membership, Role, User


class EntryState(enum.Enum):
    draft = "draft"
    submitted = "submitted"
    changes_requested = "changes_requested"
    approved = "approved"


task_objective = sa.Table(
    "task_objective",
    Base.metadata,
    sa.Column("task_id", sa.ForeignKey("task.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("objective_id", sa.ForeignKey("objective.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Entry(Base):
    """One revision of one week's journal. The newest revision of a week is the live one."""

    __tablename__ = "entry"
    __table_args__ = (sa.UniqueConstraint("course_id", "intern_id", "week_start", "revision"),)

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), index=True)
    intern_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    week_start: Mapped[date]  # the Monday of the week, in the intern's time zone
    revision: Mapped[int] = mapped_column(default=1)
    state: Mapped[EntryState] = mapped_column(enum_column(EntryState), default=EntryState.draft)
    reflection: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown as typed
    reflection_html: Mapped[str] = mapped_column(sa.Text, default="")  # rendered and sanitised
    submitted_at: Mapped[datetime | None]
    submissions: Mapped[int] = mapped_column(default=0)  # how many times this revision was submitted
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decision_comment: Mapped[str | None] = mapped_column(sa.Text)
    autosaved_at: Mapped[datetime | None]
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Position, then id: the order the review queue reads too, and the content hash covers.
    tasks: Mapped[list[Task]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="(Task.position, Task.id)"
    )
    intern: Mapped[User] = relationship(foreign_keys=[intern_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def hours(self) -> Decimal:
        return sum((t.hours for t in self.tasks), Decimal(0))

    @property
    def is_locked(self) -> bool:
        return self.state in (EntryState.submitted, EntryState.approved)

    def _owner(self, membership: Membership | None) -> bool:
        return membership is not None and membership.course_id == self.course_id and membership.user_id == self.intern_id

    def _staff(self, membership: Membership | None) -> bool:
        return (membership is not None and membership.course_id == self.course_id
                and membership.role in (Role.advisor, Role.admin))

    def _supervisor(self, membership: Membership | None) -> bool:
        return (membership is not None and membership.course_id == self.course_id
                and self.intern_id in membership.supervised_intern_ids)

    def can_view(self, membership: Membership | None) -> bool:
        """The intern, the course's advisors, and the intern's current supervisor."""
        return self._owner(membership) or self._staff(membership) or self._supervisor(membership)

    def can_edit(self, membership: Membership | None) -> bool:
        """Only the intern, and only while the entry is a draft or was sent back."""
        return self._owner(membership) and self.state in (EntryState.draft, EntryState.changes_requested)

    def can_submit(self, membership: Membership | None) -> bool:
        """The intern submits a draft or a sent-back entry."""
        return self.can_edit(membership)

    def can_revise(self, membership: Membership | None) -> bool:
        """An approved entry is corrected through a new revision, by its intern."""
        return self._owner(membership) and self.state is EntryState.approved

    def can_decide(self, membership: Membership | None) -> bool:
        """A submitted entry is approved or sent back by the intern's supervisor or the course's advisors."""
        return (self._supervisor(membership) or self._staff(membership)) and self.state is EntryState.submitted


class Task(Base):
    __tablename__ = "task"

    id: Mapped[intpk]
    entry_id: Mapped[int] = mapped_column(sa.ForeignKey("entry.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    description: Mapped[str] = mapped_column(sa.Text)
    hours: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2))

    entry: Mapped[Entry] = relationship(back_populates="tasks")
    objectives: Mapped[list[Objective]] = relationship(secondary=task_objective, order_by="Objective.position")
