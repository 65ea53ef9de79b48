"""Each intern's figures on the cohort dashboard, kept between views.

The figures come from the journal (``portfolio.cohort.summary``); this row only keeps the
last result so that a dashboard of thousands of interns reads one row per intern instead
of a year of weeks each. Two counters make it safe under concurrent writers: every write
to an intern's journal or placement raises ``version`` (in the writer's own transaction,
see ``portfolio.cohort.standing``), and the dashboard stores ``computed_version``, the
version it read *before* it read the journal. The row is current while the two match and
``valid_until`` (the end of the placement's week, when "missing" and "expected" move on)
has not passed.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.db import Base, UTCDateTime

HOURS = sa.Numeric(10, 2)


class InternStanding(Base):
    __tablename__ = "intern_standing"

    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"), primary_key=True)
    intern_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    version: Mapped[int] = mapped_column(default=0, server_default="0")
    computed_version: Mapped[int | None]  # None: never computed
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: nothing depends on the date
    approved: Mapped[int] = mapped_column(default=0, server_default="0")
    submitted: Mapped[int] = mapped_column(default=0, server_default="0")
    missing: Mapped[int] = mapped_column(default=0, server_default="0")
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    hours_logged: Mapped[Decimal] = mapped_column(HOURS, default=Decimal(0), server_default="0")
    hours_expected: Mapped[Decimal] = mapped_column(HOURS, default=Decimal(0), server_default="0")
    coverage: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # objective id (as text) → tasks
