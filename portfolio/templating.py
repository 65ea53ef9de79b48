"""Helpers every template may call (no queries here)."""

from __future__ import annotations

from flask import Flask
from flask_babel import get_locale, lazy_gettext as _l

from portfolio.people.models import Role

ROLE_LABELS = {Role.intern: _l("Intern"), Role.advisor: _l("Advisor"), Role.supervisor: _l("Supervisor"),
               Role.admin: _l("Administrator")}
RTL_LANGUAGES = {"ar", "he", "fa", "ur"}


def init_app(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")

    @app.context_processor
    def helpers():
        return {
            "current_locale_tag": lambda: str(get_locale() or "en").replace("_", "-"),
            "text_direction": lambda: "rtl" if str(get_locale() or "en").split("_")[0] in RTL_LANGUAGES else "ltr",
            "role_label": lambda role: ROLE_LABELS.get(role, str(role)),
        }
