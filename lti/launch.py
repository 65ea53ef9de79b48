"""OIDC third-party login initiation and the message launch (LTI 1.3 core, §5.1 and the
1EdTech Security Framework §5.1.3), with the checks pylti1p3 leaves out.

The flow: the platform calls ``/lti/login``; we store a login state (its hash, the nonce
and the ``target_link_uri``) and send the browser to the platform's authorization
endpoint; the platform posts a signed ``id_token`` back to ``/lti/launch``. The launch
is accepted only if, in this order:

1. ``state`` names a login state of ours that is unexpired and unused;
2. the token is a JWS with a ``kid`` and ``alg`` RS256 (never ``none`` or HS256);
3. ``iss`` is the login's platform; ``aud`` contains our client id and, with several
   audiences, ``azp`` is our client id;
4. the signature verifies with the platform's key (key set cached; an unknown ``kid``
   triggers one re-fetch, rate-limited); ``exp`` and ``iat`` are present, with leeway;
5. the nonce is the login's, and has never been used (a unique row, so across processes);
6. version 1.3.0, a known message type with its required claims, and the login's
   ``target_link_uri``;
7. the deployment is registered for the platform and at most 255 characters.

Anything else gets a ``LaunchError``: a 4xx page that says what went wrong.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

import jwt
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from jwt.algorithms import RSAAlgorithm
from pylti1p3.contrib.flask import FlaskCookieService, FlaskRequest, FlaskSessionService
from pylti1p3.exception import LtiException
from pylti1p3.message_launch import MessageLaunch
from pylti1p3.message_validators import get_validators
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.exceptions import HTTPException

from lti import http
from lti.models import LaunchTicket, LoginState, Platform, UsedNonce
from lti.platform_storage import storage_target
from lti.registry import DatabaseToolConf, find_deployment, find_platform, to_registration
from portfolio.db import db, utcnow

log = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPES = {
    "LtiResourceLinkRequest",
    "LtiDeepLinkingRequest",
    "LtiDataPrivacyLaunchRequest",
    "LtiSubmissionReviewRequest",
}
MAX_DEPLOYMENT_ID = 255


class LaunchError(HTTPException):
    """A refused login or launch; its description is shown to the person."""

    def __init__(self, description: str, code: int = 400):
        self.code = code
        super().__init__(description=description)


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def state_cookie_name(state: str) -> str:
    return "lti-state-" + state_hash(state)[:16]


# --- OIDC login initiation ---------------------------------------------------------


@dataclass
class LoginRedirect:
    url: str
    state: str
    login: LoginState | None = None


def begin_login(params: dict, launch_url: str) -> LoginRedirect:
    """Check a login initiation and return where to send the browser next."""
    issuer = (params.get("iss") or "").strip()
    login_hint = params.get("login_hint")
    target_link_uri = (params.get("target_link_uri") or "").strip()
    client_id = params.get("client_id") or None
    # Moodle says lti_deployment_id, Canvas says deployment_id.
    deployment_id = params.get("lti_deployment_id") or params.get("deployment_id")

    if not issuer:
        raise LaunchError(_("The login request has no issuer (iss). Start the tool again from your LMS."))
    if not login_hint:
        raise LaunchError(_("The login request has no login_hint. Start the tool again from your LMS."))
    if not target_link_uri:
        raise LaunchError(_("The login request has no target_link_uri."))
    platform = find_platform(issuer, client_id)
    if platform is None:
        raise LaunchError(
            _("This LMS is not registered with the tool (unknown issuer or client id). "
              "An LMS administrator needs to register it first."),
            403,
        )
    if deployment_id is not None and find_deployment(platform, deployment_id) is None:
        raise LaunchError(_("This deployment of the tool is not registered for your LMS."), 403)

    purge_expired()
    state = "state-" + secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    now = utcnow()
    login = LoginState(
        state_hash=state_hash(state),
        nonce=nonce,
        platform_id=platform.id,
        target_link_uri=target_link_uri,
        expires_at=now + timedelta(seconds=current_app.config["LTI_LOGIN_STATE_TTL"]),
        storage_target=storage_target(params),
    )
    db.session.add(login)
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_login_url else "?"
    return LoginRedirect(url=platform.auth_login_url + separator + urlencode(query), state=state, login=login)


def purge_expired() -> None:
    """Drop login states, nonces and tickets that can no longer be used: a nonce only
    has to be remembered while a token carrying it could still be accepted."""
    now = utcnow()
    db.session.execute(sa.delete(LoginState).where(LoginState.expires_at < now))
    db.session.execute(sa.delete(UsedNonce).where(UsedNonce.expires_at < now))
    db.session.execute(sa.delete(LaunchTicket).where(LaunchTicket.expires_at < now))


# --- Message launch ----------------------------------------------------------------


class _Request(FlaskRequest):
    """pylti1p3's Flask request, reading only the form post of the launch."""

    def __init__(self, form: dict):
        super().__init__(request_data=form, request_is_secure=True)


class HardenedLaunch(MessageLaunch):
    """pylti1p3's message launch with every validation step made strict."""

    def __init__(self, form: dict):
        request = _Request(form)
        super().__init__(
            request,
            DatabaseToolConf(),
            session_service=FlaskSessionService(request),
            cookie_service=FlaskCookieService(request),
        )
        self.form = form
        self.login: LoginState | None = None
        self.platform: Platform | None = None
        self.deployment = None

    def _get_request_param(self, key):
        return self.form.get(key)

    # pylti1p3 validates nonce before signature and stores state in the session; we
    # check the signature first, keep state server-side and never touch the session.
    def validate(self) -> HardenedLaunch:
        self._validated = True
        try:
            (
                self.validate_state()
                .validate_jwt_format()
                .validate_registration()
                .validate_jwt_signature()
                .validate_nonce()
                .validate_message()
                .validate_deployment()
            )
        except LtiException as error:  # pylti1p3's own checks, in our words
            self._validated = False
            raise LaunchError(_("The launch is not valid: %(error)s", error=error)) from error
        except Exception:
            self._validated = False
            raise
        return self

    def _body(self) -> dict:
        return self._jwt.get("body", {})

    def validate_state(self):
        state = self.form.get("state")
        if not state:
            raise LaunchError(_("The launch has no state. Start the tool again from your LMS."))
        login = db.session.scalar(sa.select(LoginState).where(LoginState.state_hash == state_hash(state)))
        if login is None:
            raise LaunchError(_("The launch's state is unknown: it was not started here. Start the tool again from your LMS."))
        if login.used_at is not None:
            raise LaunchError(_("This launch was already used. Start the tool again from your LMS."), 401)
        if login.expires_at <= utcnow():
            raise LaunchError(_("The launch took too long and expired. Start the tool again from your LMS."), 401)
        self.login = login
        return self

    def validate_jwt_format(self):
        token = self.form.get("id_token")
        if not token:
            raise LaunchError(_("The launch has no id_token."))
        try:
            header = jwt.get_unverified_header(token)
            body = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise LaunchError(_("The launch's id_token is not a valid JWT.")) from error
        if header.get("alg") != "RS256":
            raise LaunchError(_("The launch's token uses the algorithm %(alg)s; only RS256 is accepted.",
                                alg=repr(header.get("alg"))), 401)
        if not header.get("kid"):
            raise LaunchError(_("The launch's token has no key id (kid), so its signature cannot be checked."), 401)
        if not isinstance(body, dict):
            raise LaunchError(_("The launch's id_token is not a valid JWT."))
        self._jwt = {"header": header, "body": body}
        return self

    def validate_registration(self):
        body = self._body()
        platform = db.session.get(Platform, self.login.platform_id)
        if platform is None or not platform.enabled:
            raise LaunchError(_("This LMS registration is disabled."), 403)
        if body.get("iss") != platform.issuer:
            raise LaunchError(_("The token's issuer (iss) is not the LMS that started the login."), 401)
        aud = body.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if platform.client_id not in audiences:
            raise LaunchError(_("The token is not addressed to this tool: its audience (aud) lacks our client id."), 401)
        azp = body.get("azp")
        if len(audiences) > 1 and azp != platform.client_id:
            raise LaunchError(_("The token has several audiences but its authorized party (azp) is not this tool."), 401)
        if azp is not None and azp != platform.client_id:
            raise LaunchError(_("The token's authorized party (azp) is not this tool."), 401)
        self.platform = platform
        self._registration = None  # built lazily by get_registration() when a service needs it
        return self

    def validate_jwt_signature(self):
        kid = self._jwt["header"]["kid"]
        jwk = platform_key(self.platform, kid)
        if jwk is None:
            raise LaunchError(_("The token is signed with a key the LMS does not publish (unknown kid)."), 401)
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(jwk))
            self._jwt["body"] = jwt.decode(
                self.form["id_token"],
                public_key,
                algorithms=["RS256"],
                audience=self.platform.client_id,
                issuer=self.platform.issuer,
                leeway=current_app.config["LTI_CLOCK_LEEWAY"],
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise LaunchError(_("The launch expired (exp is in the past). Start the tool again from your LMS."), 401) from error
        except jwt.ImmatureSignatureError as error:
            raise LaunchError(_("The token was issued in the future (iat); check the LMS server's clock."), 401) from error
        except jwt.MissingRequiredClaimError as error:
            raise LaunchError(_("The token lacks the required claim %(claim)s.", claim=repr(error.claim)), 401) from error
        except jwt.InvalidSignatureError as error:
            raise LaunchError(_("The token's signature does not verify."), 401) from error
        except jwt.PyJWTError as error:
            raise LaunchError(_("The token is not valid: %(error)s.", error=error), 401) from error
        iat = self._body().get("iat")
        if not isinstance(iat, (int, float)) or iat > time.time() + current_app.config["LTI_CLOCK_LEEWAY"]:
            raise LaunchError(_("The token was issued in the future (iat); check the LMS server's clock."), 401)
        return self

    def validate_nonce(self):
        nonce = self._body().get("nonce")
        if not nonce or not isinstance(nonce, str):
            raise LaunchError(_("The token has no nonce."), 401)
        if not secrets.compare_digest(nonce, self.login.nonce):
            raise LaunchError(_("The token's nonce is not the one of this login."), 401)
        # The state is spent, whoever gets here first (two tabs, a double post).
        claimed = db.session.execute(
            sa.update(LoginState)
            .where(LoginState.id == self.login.id, LoginState.used_at.is_(None))
            .values(used_at=utcnow())
        )
        if claimed.rowcount != 1:
            raise LaunchError(_("This launch was already used. Start the tool again from your LMS."), 401)
        try:
            with db.session.begin_nested():
                db.session.add(
                    UsedNonce(
                        platform_id=self.platform.id,
                        nonce=nonce,
                        expires_at=utcnow() + timedelta(seconds=current_app.config["LTI_LOGIN_STATE_TTL"] * 2),
                    )
                )
        except IntegrityError as error:
            raise LaunchError(_("This launch was already used (replayed nonce). Start the tool again from your LMS."), 401) from error
        return self

    def validate_deployment(self):
        deployment_id = self._body().get(CLAIM + "deployment_id")
        if not deployment_id or not isinstance(deployment_id, str):
            raise LaunchError(_("The token has no deployment_id."))
        if len(deployment_id) > MAX_DEPLOYMENT_ID:
            raise LaunchError(_("The token's deployment_id is longer than 255 characters."))
        self.deployment = find_deployment(self.platform, deployment_id)
        if self.deployment is None:
            raise LaunchError(_("This deployment of the tool is not registered for your LMS."), 403)
        return self

    def validate_message(self):
        body = self._body()
        version = body.get(CLAIM + "version")
        if version is None:
            raise LaunchError(_("The token has no LTI version claim."))
        if version != "1.3.0":
            raise LaunchError(_("The token's LTI version is %(version)s; this tool speaks 1.3.0.", version=repr(version)))
        message_type = body.get(CLAIM + "message_type")
        if not message_type:
            raise LaunchError(_("The token has no message_type."))
        if message_type not in MESSAGE_TYPES:
            raise LaunchError(_("This tool does not handle the message type %(type)s.", type=repr(message_type)))
        sub = body.get("sub")
        if not isinstance(sub, str) or not sub.strip():
            raise LaunchError(_("The token does not say who the person is (no sub)."))
        if CLAIM + "roles" not in body:
            raise LaunchError(_("The token has no roles claim."))
        if not isinstance(body[CLAIM + "roles"], list):
            raise LaunchError(_("The token's roles claim is not a list."))
        if message_type == "LtiResourceLinkRequest":
            link = body.get(CLAIM + "resource_link")
            if not isinstance(link, dict) or not link.get("id"):
                raise LaunchError(_("The resource-link launch has no resource_link id."))
        if message_type == "LtiDeepLinkingRequest":
            from lti.deep_linking import settings_from_claims  # it imports this module

            settings_from_claims(body)  # says what is wrong before pylti1p3's terser checks
        target = body.get(CLAIM + "target_link_uri")
        if not target:
            raise LaunchError(_("The token has no target_link_uri."))
        if target != self.login.target_link_uri:
            raise LaunchError(_("The token's target_link_uri is not the one the login asked for."))
        # pylti1p3's own message validators, a second opinion on the claims.
        for validator in get_validators():
            if validator.can_validate(body):
                validator.validate(body)
        return self

    def get_registration(self):
        if self._registration is None:
            self._registration = to_registration(self.platform)
        return self._registration

    @property
    def claims(self) -> dict:
        return self._body()


# --- The platform's key set ----------------------------------------------------------


def _find_kid(key_set: dict | None, kid: str) -> dict | None:
    for key in (key_set or {}).get("keys", []):
        if isinstance(key, dict) and key.get("kid") == kid and key.get("kty") == "RSA" and key.get("alg", "RS256") == "RS256":
            return key
    return None


def fetch_key_set(platform: Platform) -> dict:
    try:
        response = http.session().get(platform.key_set_url)
        response.raise_for_status()
        key_set = response.json()
    except (http.UnsafeURL, ValueError, OSError) as error:
        log.warning("key set of %s could not be fetched: %s", platform.issuer, error)
        raise LaunchError(_("The LMS's public keys could not be fetched; try again in a minute."), 502) from error
    if not isinstance(key_set, dict) or not isinstance(key_set.get("keys"), list):
        raise LaunchError(_("The LMS's key set is not a JSON Web Key Set."), 400)
    return key_set


def platform_key(platform: Platform, kid: str) -> dict | None:
    """The platform's public key for ``kid``: from the cache, else after one re-fetch.

    The cache lives on the platform row (shared by every process). A cold cache is
    filled; an unknown kid in a warm cache re-fetches at most once per interval, so a
    flood of made-up kids cannot turn us into a load generator against the LMS. The
    cache is written in its own transaction: a launch that fails still keeps it.
    """
    config = current_app.config
    now = utcnow()
    fresh = (
        platform.key_set is not None
        and platform.key_set_fetched_at is not None
        and now - platform.key_set_fetched_at < timedelta(seconds=config["LTI_KEY_SET_CACHE_TTL"])
    )
    values: dict = {"key_set_fetched_at": now}
    if fresh:
        found = _find_kid(platform.key_set, kid)
        if found:
            return found
        last = platform.key_set_refetched_at
        if last is not None and now - last < timedelta(seconds=config["LTI_KEY_REFETCH_INTERVAL"]):
            return None
        values["key_set_refetched_at"] = now
    values["key_set"] = fetch_key_set(platform)
    with db.engine.begin() as connection:
        connection.execute(sa.update(Platform).where(Platform.id == platform.id).values(**values))
    for name, value in values.items():
        set_committed_value(platform, name, value)
    return _find_kid(values["key_set"], kid)
