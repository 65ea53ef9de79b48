"""Absolute URLs for links that leave the browser (mails, the LMS), and one URL for many rows."""

from __future__ import annotations

from flask import current_app, url_for


def absolute_url(endpoint: str, **values) -> str:
    """As people outside see us: ``PORTFOLIO_BASE_URL`` when set (behind a proxy), else the request's host."""
    base = current_app.config.get("BASE_URL")
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


_SLOT = 987654321  # stands in for one argument of a URL built once for many rows


def url_for_each(endpoint: str, key: str, **values):
    """``url_for`` for many values of one argument (an id, a date or a word, which need no
    quoting): the URL is built once and each value put in the slot it leaves. ``key`` keeps
    its place among ``values`` when given there, else comes last; the slot is the last
    occurrence of its digits, so an earlier value that holds them cannot move it."""
    head, _slot, tail = url_for(endpoint, **{**values, key: _SLOT}).rpartition(str(_SLOT))
    return lambda value: f"{head}{value}{tail}"
