"""Configuration: defaults first, then ``PORTFOLIO_*`` environment variables, then
whatever mapping ``create_app(config)`` receives (tests use that)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

# Values that are never a real secret key, whatever their length.
PLACEHOLDER_SECRETS = {"", "dev", "change-me", "changeme", "secret", "development"}
MIN_SECRET_LENGTH = 32


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """The app's configuration as a plain mapping."""
    env = os.environ
    instance = Path(instance_path)
    overrides = dict(overrides or {})
    max_upload = int(env.get("PORTFOLIO_MAX_UPLOAD_MB", "10")) * 1024 * 1024

    config: dict = {
        "ENV_NAME": env.get("PORTFOLIO_ENV", "development"),
        "SECRET_KEY": env.get("PORTFOLIO_SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": env.get("PORTFOLIO_DATABASE_URL")
        or f"sqlite:///{instance / 'portfolio.db'}",
        "BASE_URL": (env.get("PORTFOLIO_BASE_URL") or "").rstrip("/") or None,
        "STORAGE_DIR": env.get("PORTFOLIO_STORAGE_DIR") or str(instance / "files"),
        **jobs_settings(env),
        "SMTP_URL": env.get("PORTFOLIO_SMTP_URL") or None,
        "MAIL_FROM": env.get("PORTFOLIO_MAIL_FROM") or "portfolio@localhost",
        "SANDBOX": _flag(env.get("PORTFOLIO_SANDBOX")),
        "LOG_FORMAT": env.get("PORTFOLIO_LOG_FORMAT", "text"),
        # LTI
        "LTI_CLOCK_LEEWAY": 60,  # seconds of clock skew accepted on exp / iat
        "LTI_LOGIN_STATE_TTL": 600,  # seconds between login initiation and launch
        "LTI_KEY_SET_CACHE_TTL": 24 * 3600,
        "LTI_KEY_REFETCH_INTERVAL": 60,  # at most one key-set re-fetch per platform per minute
        "LTI_KEY_OVERLAP": 7 * 24 * 3600,  # a rotated key stays published this long
        "LTI_HTTP_TIMEOUT": (5, 15),  # connect, read (seconds), on every outgoing call
        "LTI_TICKET_TTL": 300,  # the "continue in a new window" ticket
        "SIGN_IN_LINK_HOURS": int(env.get("PORTFOLIO_SIGN_IN_LINK_HOURS", "72")),  # a supervisor's link
        # Flask and extensions
        # pool_pre_ping on SQLite; PostgreSQL checks its pooled connections at checkout
        # without a round trip (portfolio.db.check_connections_at_checkout).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "MAX_UPLOAD_BYTES": max_upload,  # one evidence file
        "MAX_CONTENT_LENGTH": max_upload + 1024 * 1024,  # the file plus the form around it
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead: journal pages stay open for hours
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
    }
    config.update(overrides)
    config["PRODUCTION"] = config["ENV_NAME"] == "production"

    if not config["SECRET_KEY"] and not config["PRODUCTION"]:
        config["SECRET_KEY"] = _development_secret(instance)

    # Cookies inside an LMS iframe are third-party: they must be SameSite=None and
    # Secure, and Partitioned so that browsers blocking third-party cookies keep them.
    # Browsers accept Secure cookies from loopback over plain http, so the demo works.
    base = urlsplit(config["BASE_URL"] or "http://127.0.0.1")
    cross_site = base.scheme == "https" or base.hostname in {"127.0.0.1", "localhost", "::1"}
    config.setdefault("CROSS_SITE_COOKIES", cross_site)
    if config["CROSS_SITE_COOKIES"]:
        config.update(
            SESSION_COOKIE_SAMESITE="None",
            SESSION_COOKIE_SECURE=True,
            SESSION_COOKIE_PARTITIONED=True,
        )
    else:
        config.update(SESSION_COOKIE_SAMESITE="Lax")
    config.setdefault("SESSION_COOKIE_NAME", "portfolio_session")
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    return config


def jobs_settings(env) -> dict:
    """What background jobs need; the Celery worker reads it without building the web app."""
    return {
        "REDIS_URL": env.get("PORTFOLIO_REDIS_URL") or None,  # unset: jobs run in process
        # Redis re-delivers a task nobody acknowledged after this many seconds: more than
        # the longest job takes, a cohort's PDFs.
        "JOBS_VISIBILITY_TIMEOUT": int(env.get("PORTFOLIO_JOBS_VISIBILITY_TIMEOUT", "7200")),
        "OUTBOX_SWEEP_SECONDS": float(env.get("PORTFOLIO_OUTBOX_SWEEP_SECONDS", "60")),
    }


def _development_secret(instance: Path) -> str:
    """A random key kept under instance/, so development sessions survive restarts."""
    path = instance / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        instance.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


def production_problems(config: dict) -> list[str]:
    """Why production mode must not start with this configuration (empty when it may)."""
    problems = []
    secret = config.get("SECRET_KEY") or ""
    if secret.strip().lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
        problems.append(
            f"PORTFOLIO_SECRET_KEY must be set to a random value of at least {MIN_SECRET_LENGTH} characters"
        )
    if config.get("SANDBOX"):
        problems.append("PORTFOLIO_SANDBOX is on; the sandbox LMS must never run in production")
    return problems
