"""Helpers every template may call (no queries here)."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from flask import Flask, g, get_template_attribute, has_request_context, request
from flask_babel import format_date as babel_format_date, format_number, get_locale, get_timezone, lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from portfolio.db import utcnow
from portfolio.journal.progress import WeekStatus
from portfolio.journal.weeks import week_bounds
from portfolio.people.models import Role
from portfolio.placements.countries import country_name

STATUS_LABELS = {"missing": _l("missing"), "open": _l("not started"), "draft": _l("draft"),
                 "submitted": _l("submitted"), "changes_requested": _l("sent back"), "approved": _l("approved")}
ROLE_LABELS = {Role.intern: _l("Intern"), Role.advisor: _l("Advisor"), Role.supervisor: _l("Supervisor"),
               Role.admin: _l("Administrator")}
RTL_LANGUAGES = {"ar", "he", "fa", "ur"}


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")

    # Globals, not a context processor: macros imported without context see them too.
    app.jinja_env.globals.update(
        current_locale_tag=lambda: str(get_locale() or "en").replace("_", "-"),
        text_direction=lambda: "rtl" if str(get_locale() or "en").split("_")[0] in RTL_LANGUAGES else "ltr",
        role_label=lambda role: ROLE_LABELS.get(role, str(role)),
        country_name=country_name,
        status_label=lambda value: STATUS_LABELS.get(value, value),
        WeekStatus=WeekStatus,
        now=utcnow,
        week_deadline=week_deadline,
        time_in=time_in,
        site_header=site_header,
    )
    # A list of a hundred interns repeats the same dates and hours many times.
    app.jinja_env.filters.update(dateformat=remembered(babel_format_date), numberformat=remembered(format_number))


def remembered(format_function):
    """``format_function`` (a Flask-Babel formatter that depends on the locale only),
    answering a value it already formatted in this request and locale from memory."""

    def formatted(value, *args):
        state = g.get("_flask_babel") if g else None
        locale = getattr(state, "babel_locale", None)
        if locale is None:  # outside a request, or before the locale is known
            return format_function(value, *args)
        memory = getattr(state, "portfolio_formatted", None)
        if memory is None or memory[0] is not locale:  # force_locale puts a new locale in place
            memory = state.portfolio_formatted = (locale, {})
        key = (format_function, type(value), value, args)
        try:
            return memory[1][key]
        except KeyError:
            result = memory[1][key] = format_function(value, *args)
            return result

    return formatted


class Formats:
    """The request's locale and time zone, formatting as the ``dateformat``,
    ``datetimeformat``, ``timedeltaformat`` and ``numberformat`` filters do, for views that
    format a long list before rendering it. Results are kept for the whole process (they
    depend on nothing but the value, the locale and the zone), so a list shown again, or
    to another person with the same language, costs dictionary look-ups."""

    def __init__(self):
        self.locale = get_locale() or Locale("en")
        self.zone = get_timezone()
        self.key = (str(self.locale), str(self.zone))  # what the results depend on besides the value

    def date(self, value: date) -> str:
        return _formatted(self.key, "date", value, self.locale, self.zone)

    def moment(self, value: datetime) -> str:
        """Date and time, both ``short``, in the viewer's zone."""
        return _formatted(self.key, "moment", value, self.locale, self.zone)

    def number(self, value) -> str:
        return _formatted(self.key, "number", value, self.locale, self.zone)

    def duration(self, value: timedelta) -> str:
        """As Babel words it (granularity second, threshold 0.85): its unit and its rounded
        count decide the words, so those are the key, and a wait that grows by a few
        seconds between two views is still the same words."""
        seconds = abs(value.total_seconds())
        for unit, per_unit in babel_dates.TIMEDELTA_UNITS:
            count = seconds / per_unit
            if count >= DURATION_THRESHOLD or unit == "second":
                count = int(round(max(1, count) if unit == "second" and count > 0 else count))
                return _formatted(self.key, "duration", (unit, count), self.locale, self.zone, value)
        return ""


DURATION_THRESHOLD = 0.85  # Babel's and Flask-Babel's default


class Memo(dict):
    """What a pure function of its key gave, kept for the process up to ``limit`` entries;
    past that it starts again (a stale entry is never wrong, only gone)."""

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def keep(self, key, value):
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value


class Numbers(Memo):
    """A number for each key, never given to another key: what many cached fragments of a
    page share (course, where the app is mounted, language, zone) stands in each
    fragment's key as its number, hashed once a page rather than once a fragment."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self._next = itertools.count()

    def of(self, key) -> int:
        found = self.get(key)
        return found if found is not None else self.keep(key, next(self._next))


# Where each request's CSRF token goes in HTML kept between requests: markup only
# templates can write (text people typed is escaped, their HTML sanitised).
CSRF_SLOT = Markup("<csrf-slot>")


def with_csrf(html: str) -> Markup:
    """Kept HTML with this request's CSRF token in its slots (made only when it has one)."""
    return Markup(html.replace(CSRF_SLOT, generate_csrf()) if CSRF_SLOT in html else html)


_HEADERS = Memo(5_000)  # some 2 KB a header


def site_header(course, membership) -> Markup:
    """The header every page shows (``_header.html``), kept by what it shows: the course,
    the person's role and name there, the language and where the app is mounted."""
    signed_in_as = current_user.display_name if course is not None and current_user.is_authenticated else None
    key = (request.script_root if has_request_context() else "", str(get_locale()),
           None if course is None else (course.id, course.display_title),
           None if membership is None else membership.role, signed_in_as)
    found = _HEADERS.get(key)
    if found is None:
        found = _HEADERS.keep(key, get_template_attribute("_header.html", "site_header")(course, membership,
                                                                                         signed_in_as))
    return found


_FORMATTED = Memo(50_000)  # about 10 MB of short strings


def _formatted(key: tuple[str, str], kind: str, value, locale, zone, raw=None) -> str:
    found = _FORMATTED.get((key, kind, type(value), value))
    if found is not None:
        return found
    if kind == "date":
        result = format_date(value, "medium", locale=locale)
    elif kind == "moment":
        result = babel_dates.format_datetime(value, "short", tzinfo=zone, locale=locale)
    elif kind == "number":
        result = format_decimal(value, locale=locale)
    else:
        result = babel_dates.format_timedelta(raw, granularity="second", threshold=DURATION_THRESHOLD,
                                              add_direction=False, locale=locale)
    return _FORMATTED.keep((key, kind, type(value), value), result)


def week_deadline(week_start: date, tz_name: str) -> datetime:
    """When a week is due: the last minute of its Sunday in the placement's time zone."""
    return week_bounds(week_start, tz_name)[1] - timedelta(minutes=1)


def time_in(value: datetime, tz_name: str | None, format: str = "full") -> str:
    """A moment as a clock in ``tz_name`` shows it (``datetimeformat`` uses the viewer's zone):
    the date in ``format``, the time to the minute, joined as the locale joins them."""
    locale = Locale.parse(str(get_locale() or "en"))
    local = value.astimezone(ZoneInfo(tz_name or "UTC"))
    pattern = str(locale.datetime_formats.get(format, "{1} {0}")).replace("'", "")  # CLDR quotes literal words
    return pattern.replace("{1}", format_date(local.date(), format, locale=locale)).replace(
        "{0}", format_time(local.timetz(), "short", locale=locale))
