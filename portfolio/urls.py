"""Absolute URLs for links that leave the browser (mails, the LMS)."""

from __future__ import annotations

from flask import current_app, url_for


def absolute_url(endpoint: str, **values) -> str:
    """As people outside see us: ``PORTFOLIO_BASE_URL`` when set (behind a proxy), else the request's host."""
    base = current_app.config.get("BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)
