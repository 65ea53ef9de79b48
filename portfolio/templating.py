"""Helpers every template may call (no queries here)."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale, lazy_gettext as _l

from portfolio.db import utcnow
from portfolio.journal.progress import WeekStatus
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
    )
