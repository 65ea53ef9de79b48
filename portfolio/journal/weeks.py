"""Journal weeks: Monday to Sunday in the intern's own time zone at the host.

A week is named by the date of its Monday. Its bounds are local midnights, so in UTC a
week lasts 7 days ± 1 hour when daylight saving time starts or ends inside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def local_today(tz_name: str, now: datetime | None = None) -> date:
    now = now or datetime.now(timezone.utc)
    return now.astimezone(ZoneInfo(tz_name)).date()


def current_week(tz_name: str, now: datetime | None = None) -> date:
    """The Monday of the week the intern is living in right now."""
    return monday_of(local_today(tz_name, now))


def week_bounds(week_start: date, tz_name: str) -> tuple[datetime, datetime]:
    """[start, end) of the week as UTC instants."""
    zone = ZoneInfo(tz_name)
    start = datetime.combine(week_start, time.min, tzinfo=zone)
    end = datetime.combine(week_start + timedelta(days=7), time.min, tzinfo=zone)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def placement_weeks(start: date, end: date) -> list[date]:
    """Every week that has at least one day of the placement."""
    weeks, monday = [], monday_of(start)
    while monday <= end:
        weeks.append(monday)
        monday += timedelta(days=7)
    return weeks


def parse_week(value: str) -> date | None:
    """A week from a URL: an ISO date that is a Monday, else None."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if day.weekday() == 0 else None


@dataclass(frozen=True)
class WeekClock:
    """Where a week stands for its intern right now."""

    week_start: date
    current: date

    @property
    def is_past(self) -> bool:
        return self.week_start < self.current

    @property
    def is_current(self) -> bool:
        return self.week_start == self.current

    @property
    def is_future(self) -> bool:
        return self.week_start > self.current
