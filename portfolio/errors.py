"""Domain errors and the one place that turns any failure into a page.

Operations raise ``NotPermitted`` (403) or ``InvalidTransition`` / ``Conflict`` (409);
views never build error responses themselves. Every error page carries the request's
reference id, which is also in the log line, and no traceback ever reaches a browser.
"""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


class DomainError(HTTPException):
    """A rule of the domain refused the change."""

    code = 409
    description = _l("This change is not possible.")

    def __init__(self, description: str | None = None):
        super().__init__(description=description)


class NotPermitted(DomainError):
    code = 403
    description = _l("You are not allowed to do this.")


class InvalidTransition(DomainError):
    code = 409
    description = _l("This is not possible in the item's current state.")


class Conflict(DomainError):
    code = 409
    description = _l("Somebody else changed this in the meantime.")


def ensure(allowed: bool, description: str | None = None) -> None:
    """Raise NotPermitted unless ``allowed``: the one way views and operations authorize."""
    if not allowed:
        raise NotPermitted(description)


TITLES = {
    400: _l("The request could not be understood"),
    401: _l("You need to sign in"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    409: _l("Conflict"),
    413: _l("Too large"),
    422: _l("Invalid input"),
    429: _l("Too many requests"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}

DATABASE_UNAVAILABLE = _l("The database did not answer, and nothing was changed. Please try again in a moment.")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        level = logging.WARNING if error.code < 500 else logging.ERROR
        log.log(level, "%s %s -> %s %s", request.method, request.path, error.code, error.description)
        return _render(error.code, str(error.description or ""), headers=_safe_headers(error))

    @app.errorhandler(DBAPIError)
    def database_error(error: DBAPIError):
        # A dropped connection, a failover, a locked SQLite file: the request was rolled back
        # whole and the pool has thrown the dead connection away (pre-ping checks the others),
        # so trying again is safe and usually works.
        if isinstance(error, OperationalError) or error.connection_invalidated:
            cause = str(error.orig if error.orig is not None else error).strip().partition("\n")[0]
            log.error("database unavailable on %s %s: %s", request.method, request.path, cause)
            return _render(503, str(DATABASE_UNAVAILABLE), headers={"Retry-After": "5"})
        return unexpected_error(error)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return _render(500, str(InternalServerError.description))


def _safe_headers(error: HTTPException) -> dict:
    # Keep protocol headers such as Allow (405) and Retry-After (429).
    response = error.get_response()
    return {k: v for k, v in response.headers.items() if k in {"Allow", "Retry-After", "WWW-Authenticate"}}


def _render(code: int, reason: str, headers: dict | None = None):
    from portfolio.db import db

    try:
        db.session.rollback()
    except Exception:  # the database itself may be what failed
        log.warning("rollback failed while rendering an error page", exc_info=True)
    title = TITLES.get(code, TITLES[500] if code >= 500 else TITLES[400])
    body = render_template(
        "errors/error.html",
        code=code,
        title=title,
        reason=reason,
        reference=getattr(g, "request_id", None),
    )
    return body, code, headers or {}
