"""ISO 3166-1 alpha-2 countries with names in the viewer's language (from CLDR, via Babel)."""

from __future__ import annotations

from babel import Locale
from flask_babel import get_locale

# CLDR territories also hold regions ("150") and pseudo-codes; keep real two-letter ones.
_EXCLUDED = {"EU", "EZ", "UN", "QO", "XA", "XB", "XK", "ZZ"}


def country_codes() -> frozenset[str]:
    return frozenset(code for code in Locale("en").territories if len(code) == 2 and code.isalpha()
                     and code not in _EXCLUDED)


def country_choices() -> list[tuple[str, str]]:
    locale = get_locale() or Locale("en")
    names = locale.territories
    return sorted(((code, names.get(code, code)) for code in country_codes()), key=lambda item: item[1])


def country_name(code: str) -> str:
    locale = get_locale() or Locale("en")
    return locale.territories.get(code, code)
