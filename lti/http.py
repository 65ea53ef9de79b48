"""Every outgoing call to a platform (key sets, tokens, AGS, NRPS, registration) goes
through here: http(s) only, a timeout on every request, no redirect to another host."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests
from flask import current_app

USER_AGENT = "internship-portfolio (LTI 1.3 tool)"
MAX_REDIRECTS = 3


class UnsafeURL(ValueError):
    pass


def check_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeURL(f"only http(s) URLs are allowed: {url!r}")
    return url


class PlatformSession(requests.Session):
    """A requests session that applies the timeout and the same-host redirect rule."""

    def __init__(self, timeout: tuple[float, float] | None = None):
        super().__init__()
        self.headers["User-Agent"] = USER_AGENT
        self.default_timeout = timeout

    def request(self, method, url, **kwargs):
        check_url(url)
        kwargs.setdefault("timeout", self.default_timeout or current_app.config["LTI_HTTP_TIMEOUT"])
        follow = kwargs.pop("allow_redirects", True)
        response = super().request(method, url, allow_redirects=False, **kwargs)
        hops = 0
        while follow and response.is_redirect and hops < MAX_REDIRECTS:
            target = urljoin(url, response.headers["Location"])
            check_url(target)
            if urlsplit(target).netloc != urlsplit(url).netloc:
                raise UnsafeURL(f"refusing a redirect from {urlsplit(url).netloc} to {urlsplit(target).netloc}")
            url, hops = target, hops + 1
            response = super().request("GET" if method.upper() != "HEAD" else "HEAD", url, allow_redirects=False, **kwargs)
        if follow and response.is_redirect:
            raise UnsafeURL("too many redirects")
        return response


def session() -> PlatformSession:
    return PlatformSession()
