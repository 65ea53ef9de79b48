"""What a new app process does once, before its first request, instead of during it.

A worker that gunicorn starts (at boot, and again after ``max_requests``) would otherwise
compile every template, configure the ORM's mappers, read each language's catalogue and
open its database connections while people wait on its first requests; when a server
starts under load those first requests all arrive at once.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Flask
from flask_babel import force_locale, get_translations

log = logging.getLogger(__name__)


def warm(app: Flask, *, connections: int = 1) -> None:
    """Compile the templates, configure the mappers, load the catalogues and open up to
    ``connections`` pooled database connections (a worker's threads)."""
    from portfolio.db import db
    from portfolio.extensions import SUPPORTED_LOCALES

    sa.orm.configure_mappers()
    templates = app.jinja_env.list_templates(extensions=("html", "txt"))
    for name in templates:
        app.jinja_env.get_template(name)
    with app.test_request_context():
        for locale in SUPPORTED_LOCALES:
            with force_locale(locale):
                get_translations()
    with app.app_context():
        opened = []
        try:
            pool_size = getattr(db.engine.pool, "size", lambda: 1)()
            for _ in range(max(1, min(connections, pool_size))):
                opened.append(db.engine.connect())
        except sa.exc.OperationalError as error:  # the database is not up yet: the first request will say so
            log.warning("warm-up could not open a database connection: %s", error)
        finally:
            for connection in opened:
                connection.close()
    log.info("warmed: %d templates, %d languages, %d database connections", len(templates),
             len(SUPPORTED_LOCALES), len(opened))
