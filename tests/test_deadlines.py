"""A week is due at the last minute of its Sunday in the placement's time zone, and the
deadline reads as each person's clock shows it (portfolio.templating)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from flask_babel import force_locale

from portfolio.templating import time_in, week_deadline


def test_a_week_is_due_at_the_end_of_its_sunday_where_the_intern_works():
    # Berlin moves to summer time on Sunday 28 March 2027: that Sunday ends at 23:59 CEST.
    assert week_deadline(date(2027, 3, 22), "Europe/Berlin") == datetime(2027, 3, 28, 21, 59, tzinfo=timezone.utc)
    assert week_deadline(date(2027, 3, 15), "Europe/Berlin") == datetime(2027, 3, 21, 22, 59, tzinfo=timezone.utc)
    assert week_deadline(date(2026, 11, 23), "Pacific/Auckland") == datetime(2026, 11, 29, 10, 59, tzinfo=timezone.utc)


def test_the_deadline_reads_as_each_clock_shows_it_in_the_person_s_language(app):
    due = datetime(2026, 11, 29, 10, 59, tzinfo=timezone.utc)
    with app.test_request_context():
        with force_locale("de"):
            auckland, tokyo = time_in(due, "Pacific/Auckland"), time_in(due, "Asia/Tokyo")
        with force_locale("fr"):
            nowhere = time_in(due, None)  # no zone: UTC
    assert auckland.startswith("Sonntag, 29. November 2026") and auckland.endswith("23:59")
    assert tokyo.startswith("Sonntag, 29. November 2026") and tokyo.endswith("19:59")
    assert nowhere.startswith("dimanche 29 novembre 2026") and nowhere.endswith("10:59")
    assert "'" not in auckland + tokyo + nowhere  # CLDR's quoted literals are unquoted
