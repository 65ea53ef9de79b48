"""Journal weeks in the intern's own time zone, across daylight-saving changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from portfolio.journal.weeks import current_week, monday_of, parse_week, placement_weeks, week_bounds

UTC = timezone.utc


def test_weeks_of_a_placement_include_partial_first_and_last_weeks():
    weeks = placement_weeks(date(2027, 3, 3), date(2027, 3, 22))  # a Wednesday to a Monday
    assert weeks == [date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 22)]
    assert all(w.weekday() == 0 for w in weeks)


def test_one_instant_two_interns_two_weeks():
    """Sunday afternoon in Los Angeles is already Monday morning in Auckland."""
    instant = datetime(2027, 3, 14, 20, 0, tzinfo=UTC)
    assert current_week("Pacific/Auckland", instant) == date(2027, 3, 15)
    assert current_week("America/Los_Angeles", instant) == date(2027, 3, 8)


def test_a_week_in_auckland_when_daylight_saving_ends_lasts_169_hours():
    # New Zealand leaves daylight saving time on Sunday 4 April 2027 (UTC+13 → UTC+12).
    start, end = week_bounds(date(2027, 3, 29), "Pacific/Auckland")
    assert start == datetime(2027, 3, 28, 11, 0, tzinfo=UTC)
    assert end == datetime(2027, 4, 4, 12, 0, tzinfo=UTC)
    assert end - start == timedelta(days=7, hours=1)


def test_a_week_in_los_angeles_when_daylight_saving_starts_lasts_167_hours():
    # Los Angeles enters daylight saving time on Sunday 14 March 2027 (UTC-8 → UTC-7).
    start, end = week_bounds(date(2027, 3, 8), "America/Los_Angeles")
    assert start == datetime(2027, 3, 8, 8, 0, tzinfo=UTC)
    assert end == datetime(2027, 3, 15, 7, 0, tzinfo=UTC)
    assert end - start == timedelta(days=6, hours=23)


def test_the_last_minute_of_a_week_belongs_to_it_on_both_sides_of_the_world():
    _, auckland_end = week_bounds(date(2027, 3, 29), "Pacific/Auckland")
    assert current_week("Pacific/Auckland", auckland_end - timedelta(minutes=1)) == date(2027, 3, 29)
    assert current_week("Pacific/Auckland", auckland_end) == date(2027, 4, 5)
    _, la_end = week_bounds(date(2027, 3, 8), "America/Los_Angeles")
    assert current_week("America/Los_Angeles", la_end - timedelta(minutes=1)) == date(2027, 3, 8)
    assert current_week("America/Los_Angeles", la_end) == date(2027, 3, 15)


def test_parse_week_accepts_only_mondays():
    assert parse_week("2027-03-15") == date(2027, 3, 15)
    assert parse_week("2027-03-16") is None
    assert parse_week("../etc") is None
    assert monday_of(date(2027, 3, 21)) == date(2027, 3, 15)
