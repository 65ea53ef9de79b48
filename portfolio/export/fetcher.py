"""What the PDF renderer may load: ``data:`` URIs, and the files we prepared ourselves
under a private ``stored:`` scheme, named by key. Nothing else: no http(s), no file,
no ftp, no redirect (nothing is ever requested over a network), so a reflection or a
stylesheet cannot make the server read its own files or reach an internal address.

It runs in the rendering process, which has no database: the parent hands it the map of
keys to files it may serve.
"""

from __future__ import annotations

import base64
import logging
import os
from urllib.parse import unquote_to_bytes

from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

SCHEME = "stored"
MAX_DATA_URI_BYTES = 5 * 1024 * 1024


class FetchRefused(ValueError):
    """A URL the renderer may not load."""


class SafeFetcher(URLFetcher):
    """Serves ``data:`` URIs and the files in ``files`` (key → path under ``root``); refuses the rest."""

    def __init__(self, files: dict[str, str] | None = None, root: str | None = None):
        super().__init__(allowed_protocols={"data", SCHEME}, allow_redirects=False, fail_on_errors=False)
        self._files = dict(files or {})
        self._root = os.path.realpath(root) if root else None
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme, _, rest = str(url).partition(":")
        scheme = scheme.lower()
        if scheme == "data":
            return self._data(url, rest)
        if scheme == SCHEME and rest in self._files:
            path = os.path.realpath(self._files[rest])
            if self._root is None or os.path.commonpath([self._root, path]) == self._root:
                with open(path, "rb") as file:
                    body = file.read()
                return URLFetcherResponse(url, body, {"Content-Type": _content_type(path)})
        self.refused.append(str(url)[:200])
        log.info("export: refused to fetch %.200s", url)
        raise FetchRefused("only data: URIs and the portfolio's own files are loaded")

    def open(self, url, data=None, timeout=None):  # never fall back to urllib's handlers
        return self.fetch(getattr(url, "full_url", url))

    def __call__(self, url):
        return self.fetch(url)

    def _data(self, url: str, rest: str) -> URLFetcherResponse:
        header, comma, payload = rest.partition(",")
        if not comma or len(payload) > MAX_DATA_URI_BYTES * 2:
            raise FetchRefused("malformed or oversized data: URI")
        parts = header.split(";")
        media_type = parts[0] or "text/plain"
        if parts[-1].lower() == "base64":
            body = base64.b64decode(unquote_to_bytes(payload), validate=False)
        else:
            body = unquote_to_bytes(payload)
        if len(body) > MAX_DATA_URI_BYTES:
            raise FetchRefused("oversized data: URI")
        return URLFetcherResponse(url, body, {"Content-Type": media_type})


def _content_type(path: str) -> str:
    if path.endswith(".png"):
        return "image/png"
    if path.endswith((".jpg", ".jpeg")):
        return "image/jpeg"
    return "application/octet-stream"
