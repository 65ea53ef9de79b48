from __future__ import annotations

import secrets
from datetime import datetime
from itertools import chain

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from portfolio.db import Base, intpk, timestamp
from portfolio.people.models import Course, Membership, Role


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


@sa.event.listens_for(Session, "after_flush")
def _framework_changed(session: Session, _context) -> None:
    """Every ORM write to an objective gives its course a new ``objectives_stamp`` in the
    same transaction: what app processes keep of the course's objectives is read again."""
    courses = {instance.course_id for instance in chain(session.new, session.dirty, session.deleted)
               if isinstance(instance, Objective) and instance.course_id is not None
               and (instance not in session.dirty or session.is_modified(instance))}
    if not courses:
        return
    stamp = secrets.token_hex(8)
    session.connection().execute(sa.update(Course).where(Course.id.in_(courses)).values(objectives_stamp=stamp))
    for course_id in courses:  # what this session already holds of the course says so too
        course = session.identity_map.get(identity_key(Course, course_id))
        if course is not None:
            set_committed_value(course, "objectives_stamp", stamp)
