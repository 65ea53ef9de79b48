"""Flask extensions, created once and bound to each app in ``init_app``."""

from __future__ import annotations

from flask import Flask, g, request
from flask.globals import _cv_app
from flask_babel import Babel, get_translations
from flask_login import LoginManager, current_user
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from portfolio.db import db

login_manager = LoginManager()
csrf = CSRFProtect()
migrate = Migrate()
babel = Babel()

SUPPORTED_LOCALES = ["en", "es", "fr", "de", "zh_Hans"]


def init_app(app: Flask) -> None:
    from portfolio import ROOT

    login_manager.init_app(app)
    csrf.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(ROOT / "translations"),
    )
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: current_translations().ugettext(s),
        ngettext=lambda s, p, n: current_translations().ungettext(s, p, n),
        pgettext=lambda c, s: current_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: current_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )


def current_translations():
    """Flask-Babel's translations for the current locale, looked up once per locale and
    request instead of once per string: a page calls gettext a few hundred times, and each
    full lookup walks the request globals and the locale selector again. ``force_locale``
    puts a new locale object in place, which the identity check notices."""
    context = _cv_app.get(None)  # the app context, not the ``g`` proxy: this runs for every string of a page
    state = context.g.__dict__.get("_flask_babel") if context is not None else None
    locale = getattr(state, "babel_locale", None)
    cached = getattr(state, "portfolio_translations", None)
    if cached is not None and locale is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    state = g.get("_flask_babel") if g else None
    if state is not None and getattr(state, "babel_locale", None) is not None:
        state.portfolio_translations = (state.babel_locale, translations)
    return translations


@login_manager.user_loader
def load_user(user_id: str):
    from portfolio.people.access import load_signed_in

    return load_signed_in(int(user_id))


@login_manager.unauthorized_handler
def unauthorized():
    from flask import abort

    abort(401, description="Your session has ended. Open the tool again from your course in the LMS.")


def normalise_locale(tag: str | None) -> str | None:
    """Map an LMS or browser language tag (zh-Hans, zh-CN, es-419, fr_CA) to a supported one."""
    if not tag:
        return None
    tag = tag.replace("_", "-").strip()
    lowered = tag.lower()
    if lowered.startswith("zh"):
        return "zh_Hans" if not any(x in lowered for x in ("hant", "-tw", "-hk", "-mo")) else None
    primary = lowered.split("-")[0]
    return primary if primary in SUPPORTED_LOCALES else None


def select_locale() -> str:
    override = g.get("locale_override")
    if override:
        return override
    if current_user and current_user.is_authenticated:
        chosen = normalise_locale(current_user.effective_locale)
        if chosen:
            return chosen
    best = request.accept_languages.best_match(["en", "es", "fr", "de", "zh-Hans", "zh-CN", "zh"]) if request else None
    return normalise_locale(best) or "en"


def select_timezone() -> str:
    if current_user and current_user.is_authenticated and current_user.effective_timezone:
        return current_user.effective_timezone
    return "UTC"
