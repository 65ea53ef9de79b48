"""``portfolio.templating.Formats`` words every value exactly as the template filters do,
in every language and time zone, although it keeps results for the whole process."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from flask import current_app, g
from flask_babel import format_date, format_datetime, format_number, format_timedelta, refresh

from portfolio.extensions import select_timezone
from portfolio.templating import Formats

MOMENTS = [datetime(2026, 3, 29, 0, 30, tzinfo=timezone.utc), datetime(2026, 11, 3, 23, 59, 59, tzinfo=timezone.utc)]
DAYS = [date(2026, 1, 5), date(2026, 12, 28)]
NUMBERS = [Decimal("38"), Decimal("38.00"), Decimal("7.5"), Decimal("1234.25"), 0, Decimal("-2.5")]
# Around each of Babel's unit boundaries (threshold 0.85) and its rounding.
DURATIONS = [timedelta(seconds=s) for s in (0, 1, 44, 45, 51, 59, 60, 89, 90, 3059, 3061, 3600, 73_000, 73_500,
                                            86_399, 5.9 * 86400, 6 * 86400, 6.5 * 86400, 25 * 86400, 26 * 86400,
                                            300 * 86400, 311 * 86400, 400 * 86400)] + [timedelta(days=-3, hours=-2)]


@contextmanager
def speaking(language: str, zone: str):
    """A request whose person reads ``language`` and lives in ``zone``."""
    babel = current_app.extensions["babel"]
    babel.timezone_selector = lambda: zone
    try:
        g.locale_override = language
        refresh()
        yield
    finally:
        babel.timezone_selector = select_timezone
        refresh()


@pytest.mark.parametrize("language", ["en", "de", "fr", "es", "zh_Hans"])
@pytest.mark.parametrize("zone", ["UTC", "Pacific/Auckland", "America/New_York"])
def test_the_same_words_as_the_filters(app, language, zone):
    with app.test_request_context(), speaking(language, zone):
        formats = Formats()
        for value in MOMENTS:
            assert formats.moment(value) == format_datetime(value, "short")
        for value in DAYS:
            assert formats.date(value) == format_date(value)
        for value in NUMBERS:
            assert formats.number(value) == format_number(value)
        for value in DURATIONS:
            assert formats.duration(value) == format_timedelta(value), value
        # kept for the process, and asked again in a new request's formatter: the same
        assert Formats().moment(MOMENTS[0]) == format_datetime(MOMENTS[0], "short")


def test_the_zone_and_the_language_are_part_of_what_is_kept(app):
    moment = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
    seen = set()
    for language in ("en", "de"):
        for zone in ("UTC", "Asia/Tokyo"):
            with app.test_request_context(), speaking(language, zone):
                seen.add(Formats().moment(moment))
    assert len(seen) == 4
