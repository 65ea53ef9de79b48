"""The WSGI entry point for production servers: ``gunicorn portfolio.wsgi:app``.

Besides what ``create_app`` checks, it refuses to serve a database that is not at the
newest migration (run ``flask --app portfolio db upgrade`` first).
"""

from portfolio import create_app
from portfolio.schema import schema_is_current

app = create_app()

if app.config["PRODUCTION"] and not schema_is_current(app):
    raise SystemExit(
        "portfolio: refusing to start in production: the database is not migrated; "
        "run 'flask --app portfolio db upgrade' first"
    )
