"""Response headers every page gets. The app lives inside LMS iframes, so framing is
allowed (``frame-ancestors``) while everything else stays locked down."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action *; frame-ancestors *",
        )
        return response
