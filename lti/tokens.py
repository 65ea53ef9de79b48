"""Access tokens for a platform's services (1EdTech Security Framework §4.1): the OAuth 2
client-credentials grant, authenticated by a JWT client assertion signed with the
tool's active key, and the authorized calls made with the token.

A token is cached in the database per (platform, scopes) until shortly before it
expires, so every process and worker shares it instead of asking the platform again.
The cache is read and written on connections of its own: never inside the caller's
transaction, which may be waiting on the platform (and on SQLite the sandbox platform
writes to the same database while the tool waits for its answer).

A service that answers 401 has forgotten or revoked the token: the cached token is
dropped, a new one fetched once, and the call repeated once. Every outcome is one of
the answers of :mod:`portfolio.lms`: a response, ``DeliveryDeferred`` (try later) or
``DeliveryRefused`` (a person has to look).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import jwt
import requests
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lti import http, keys
from lti.models import AccessToken, Platform, ToolKey
from portfolio.db import db, utcnow
from portfolio.lms import DeliveryDeferred, DeliveryRefused

log = logging.getLogger(__name__)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 60  # seconds
DEFAULT_LIFETIME = 3600  # when the platform does not say (expires_in is only RECOMMENDED)
# A token is not used in its last minute (or last tenth, for short-lived ones): a call
# made with it must still arrive before it expires.
EXPIRY_MARGIN = 60
BODY_EXCERPT = 300


def scope_key(scopes) -> str:
    return " ".join(sorted(set(scopes)))


# --- The cache ---------------------------------------------------------------------------


def cached_token(platform: Platform, scopes) -> str | None:
    with db.engine.connect() as connection:
        return connection.scalar(
            sa.select(AccessToken.token).where(
                AccessToken.platform_id == platform.id, AccessToken.scopes == scope_key(scopes),
                AccessToken.expires_at > utcnow()))


def _store(platform: Platform, scopes, token: str, expires_at: datetime) -> None:
    key = scope_key(scopes)
    try:
        with db.engine.begin() as connection:
            connection.execute(sa.delete(AccessToken).where(
                AccessToken.platform_id == platform.id, AccessToken.scopes == key))
            connection.execute(sa.insert(AccessToken).values(
                platform_id=platform.id, scopes=key, token=token, expires_at=expires_at, created_at=utcnow()))
    except IntegrityError:
        pass  # another process cached its own token for these scopes at the same moment: as good as ours


def drop(platform: Platform, scopes, token: str) -> None:
    """Forget a token the platform rejected (only that one: another process may have a newer)."""
    with db.engine.begin() as connection:
        connection.execute(sa.delete(AccessToken).where(
            AccessToken.platform_id == platform.id, AccessToken.scopes == scope_key(scopes),
            AccessToken.token == token))


def access_token(platform: Platform, scopes) -> str:
    """A token for these scopes: the cached one, else a new one from the platform."""
    return cached_token(platform, scopes) or fetch_token(platform, scopes)


# --- The grant ---------------------------------------------------------------------------


def _signing_key() -> tuple[str, str]:
    """(private PEM, kid) of the active key. Made, if there is none yet, in a transaction
    of its own: the platform fetches our key set to check the assertion, and must see it."""
    key = db.session.scalar(sa.select(ToolKey).where(ToolKey.retired_at.is_(None))
                            .order_by(ToolKey.created_at.desc()).limit(1))
    if key is not None:
        return key.private_key_pem, key.kid
    pem = keys.generate_rsa_pem()
    kid = keys.key_id(pem)
    with db.engine.begin() as connection:
        connection.execute(sa.insert(ToolKey).values(
            kid=kid, private_key_pem=pem, public_jwk=keys.public_jwk(pem, kid), created_at=utcnow()))
    return pem, kid


def client_assertion(platform: Platform) -> str:
    pem, kid = _signing_key()
    now = int(time.time())
    claims = {
        "iss": platform.client_id,
        "sub": platform.client_id,
        "aud": platform.auth_audience or platform.auth_token_url,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
        "jti": "portfolio-" + uuid.uuid4().hex,
    }
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})


def fetch_token(platform: Platform, scopes) -> str:
    """Ask the platform's token endpoint for a new token and cache it."""
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": client_assertion(platform),
        "scope": scope_key(scopes),
    }
    response = _send(lambda session: session.post(platform.auth_token_url, data=form,
                                                  headers={"Accept": "application/json"}),
                     what="the LMS's token endpoint")
    if not response.ok:
        raise answer_error(response, what="The LMS refused the tool's request for an access token")
    try:
        body = response.json()
        token = body["access_token"]
        lifetime = int(body.get("expires_in") or DEFAULT_LIFETIME)
    except (ValueError, KeyError, TypeError) as error:
        raise DeliveryDeferred("The LMS's token endpoint sent no usable access token.",
                               status=response.status_code) from error
    if not isinstance(token, str) or not token:
        raise DeliveryDeferred("The LMS's token endpoint sent no usable access token.", status=response.status_code)
    margin = min(EXPIRY_MARGIN, lifetime // 10)
    _store(platform, scopes, token, utcnow() + timedelta(seconds=max(lifetime - margin, 0)))
    return token


# --- Authorized calls --------------------------------------------------------------------


def _send(call, *, what: str) -> requests.Response:
    try:
        return call(http.session())
    except http.UnsafeURL as error:
        raise DeliveryRefused(f"The tool will not call {what}: {error}") from error
    except requests.Timeout as error:
        raise DeliveryDeferred(f"{what[0].upper()}{what[1:]} did not answer in time.") from error
    except (requests.ConnectionError, OSError) as error:
        raise DeliveryDeferred(f"{what[0].upper()}{what[1:]} could not be reached.") from error
    except requests.RequestException as error:
        raise DeliveryDeferred(f"The call to {what} failed: {type(error).__name__}.") from error


def service_request(platform: Platform, scopes, method: str, url: str, *, what: str, **kwargs) -> requests.Response:
    """One authorized call to a service; a 401 gets one new token and one more try.
    Returns a 2xx response; anything else raises DeliveryDeferred or DeliveryRefused."""
    token = access_token(platform, scopes)
    headers = dict(kwargs.pop("headers", {}))

    def call(session):
        return session.request(method, url, headers={**headers, "Authorization": "Bearer " + token}, **kwargs)

    response = _send(call, what=what)
    if response.status_code == 401:
        log.info("%s rejected the access token of %s; fetching a new one", what, platform.issuer)
        drop(platform, scopes, token)
        token = fetch_token(platform, scopes)
        response = _send(call, what=what)
    if 200 <= response.status_code < 300:
        return response
    raise answer_error(response, what=f"{what[0].upper()}{what[1:]} answered")


def retry_after(response: requests.Response) -> timedelta | None:
    """``Retry-After`` as seconds or as an HTTP date (RFC 9110 §10.2.3)."""
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(when - utcnow(), timedelta(0))


def excerpt(response: requests.Response) -> str:
    text = " ".join((response.text or "").split())
    return text[:BODY_EXCERPT] + ("…" if len(text) > BODY_EXCERPT else "")


def is_rate_limited(response: requests.Response) -> bool:
    """429, or Canvas's way of saying it: 403 with "Rate Limit Exceeded" in the body."""
    return response.status_code == 429 or (
        response.status_code == 403 and "rate limit exceeded" in (response.text or "").lower())


def answer_error(response: requests.Response, *, what: str) -> Exception:
    """The exception a non-2xx answer means: try later, or a person has to look."""
    status = response.status_code
    message = f"{what} {status} {response.reason or ''}".rstrip()
    body = excerpt(response)
    if body:
        message += f": {body}"
    if status >= 500 or is_rate_limited(response) or status == 408:
        return DeliveryDeferred(message, status=status, retry_after=retry_after(response))
    return DeliveryRefused(message, status=status)
