"""LTI Dynamic Registration 1.0: an LMS admin registers the tool by pasting one URL.

The LMS opens ``/lti/register?openid_configuration=<url>&registration_token=<token>``
in a frame. The tool fetches the platform's OpenID configuration (sending the token as a
Bearer token: Canvas requires it on this GET too), checks it (§3.5.1: the issuer and the
configuration URL are on the same host; the endpoints are http(s); the LTI platform
configuration claim is present), shows the admin what will be registered, and on
confirmation posts its client registration request to the platform's
``registration_endpoint`` (Bearer token again). The answer carries the ``client_id``
and, in its tool configuration, usually the ``deployment_id``; the tool stores both as
an ordinary platform registration. Finally the page posts
``{subject: 'org.imsglobal.lti.close'}`` to the LMS window, which closes the frame.

Every failure is a ``RegistrationError``: a 4xx page that says what went wrong.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from lti import http
from lti.models import Platform
from lti.operations import register_platform
import sqlalchemy as sa

from portfolio.db import db

log = logging.getLogger(__name__)

PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
CLAIMS = ["iss", "sub", "name", "given_name", "family_name", "email", "locale"]
# Instructure-hosted Canvas serves each school's configuration from the school's host
# under one shared issuer; only these issuers may differ from the configuration's host,
# and only for a configuration served by Instructure.
INSTRUCTURE_ISSUERS = {
    "https://canvas.instructure.com", "https://canvas.beta.instructure.com", "https://canvas.test.instructure.com",
}
INSTRUCTURE_HOSTS = (".instructure.com", ".canvaslms.com")
MAX_DOCUMENT = 512 * 1024


class RegistrationError(HTTPException):
    """A refused registration; its description is shown to the LMS admin."""

    def __init__(self, description: str, code: int = 400):
        self.code = code
        super().__init__(description=description)


@dataclass
class PlatformConfiguration:
    """The parts of the platform's OpenID configuration the registration uses."""

    url: str
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family: str
    version: str = ""
    scopes_supported: list[str] = field(default_factory=list)
    messages_supported: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        family = {"moodle": "Moodle", "canvas": "Canvas"}.get(self.product_family, self.product_family or "LMS")
        return f"{family} ({urlsplit(self.issuer).netloc})"

    @property
    def scopes(self) -> list[str]:
        """The scopes we ask for: those the tool uses that the platform says it offers."""
        if not self.scopes_supported:
            return list(SCOPES)
        return [scope for scope in SCOPES if scope in self.scopes_supported]


def _auth_headers(registration_token: str | None) -> dict:
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    return headers


def _read_json(response: requests.Response, what: str) -> object:
    body = response.content[: MAX_DOCUMENT + 1]
    if len(body) > MAX_DOCUMENT:
        raise RegistrationError(_("The LMS's %(what)s is larger than %(size)s KB.", what=what,
                                  size=MAX_DOCUMENT // 1024), 422)
    try:
        return json.loads(body)
    except ValueError as error:
        raise RegistrationError(_("The LMS's %(what)s is not valid JSON.", what=what), 422) from error


def fetch_configuration(url: str, registration_token: str | None) -> dict:
    """GET the OpenID configuration through lti.http (timeouts, http(s), same-host redirects)."""
    try:
        http.check_url(url)
    except http.UnsafeURL as error:
        raise RegistrationError(_("The openid_configuration parameter must be an http(s) URL.")) from error
    try:
        response = http.session().get(url, headers=_auth_headers(registration_token))
    except http.UnsafeURL as error:
        raise RegistrationError(_("The LMS's configuration could not be fetched: %(error)s.", error=error),
                                422) from error
    except requests.RequestException as error:
        log.warning("openid configuration %s unreachable: %s", url, error)
        raise RegistrationError(_("The LMS's configuration could not be fetched: the LMS did not answer. "
                                  "Check that the tool's server can reach the LMS, then try again."), 422) from error
    if response.status_code in (401, 403):
        raise RegistrationError(_("The LMS refused to give its configuration (HTTP %(status)s): the "
                                  "registration token is missing, wrong or expired. Start the registration again "
                                  "from the LMS.", status=response.status_code), 403)
    if response.status_code != 200:
        raise RegistrationError(_("The LMS answered HTTP %(status)s for its configuration.",
                                  status=response.status_code), 422)
    document = _read_json(response, _("configuration"))
    if not isinstance(document, dict):
        raise RegistrationError(_("The LMS's configuration is not a JSON object."), 422)
    return document


def _url_field(document: dict, name: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        raise RegistrationError(_("The LMS's configuration has no %(name)s.", name=name), 422)
    try:
        return http.check_url(value.strip())
    except http.UnsafeURL as error:
        raise RegistrationError(_("The LMS's %(name)s is not an http(s) URL: %(value)s.", name=name,
                                  value=repr(value)), 422) from error


def _same_host(issuer: str, url: str) -> bool:
    issuer_parts, url_parts = urlsplit(issuer), urlsplit(url)
    if issuer_parts.netloc.lower() == url_parts.netloc.lower() and issuer_parts.scheme == url_parts.scheme:
        return True
    host = (url_parts.hostname or "").lower()
    return issuer.rstrip("/") in INSTRUCTURE_ISSUERS and url_parts.scheme == "https" and host.endswith(INSTRUCTURE_HOSTS)


def parse_configuration(url: str, document: dict) -> PlatformConfiguration:
    """Check the configuration as §3.5 of the spec asks, and keep what registration needs."""
    issuer = _url_field(document, "issuer")
    if urlsplit(issuer).query or urlsplit(issuer).fragment:
        raise RegistrationError(_("The LMS's issuer must not have a query or fragment."), 422)
    if not _same_host(issuer, url):
        raise RegistrationError(
            _("The LMS's issuer (%(issuer)s) is not on the host the configuration came from "
              "(%(host)s). The spec requires them to match, so the tool refuses it.",
              issuer=issuer, host=urlsplit(url).netloc), 422)
    platform_configuration = document.get(PLATFORM_CONFIGURATION)
    if not isinstance(platform_configuration, dict):
        raise RegistrationError(_("The LMS's configuration lacks the LTI platform configuration "
                                  "(%(claim)s).", claim=PLATFORM_CONFIGURATION), 422)
    family = platform_configuration.get("product_family_code")
    if not isinstance(family, str) or not family.strip():
        raise RegistrationError(_("The LMS's platform configuration has no product_family_code."), 422)
    signing = document.get("id_token_signing_alg_values_supported")
    if isinstance(signing, list) and "RS256" not in signing:
        raise RegistrationError(_("The LMS does not sign with RS256, which LTI 1.3 requires."), 422)
    scopes = document.get("scopes_supported")
    messages = platform_configuration.get("messages_supported")
    return PlatformConfiguration(
        url=url,
        issuer=issuer,
        authorization_endpoint=_url_field(document, "authorization_endpoint"),
        token_endpoint=_url_field(document, "token_endpoint"),
        jwks_uri=_url_field(document, "jwks_uri"),
        registration_endpoint=_url_field(document, "registration_endpoint"),
        product_family=family.strip().lower()[:64],
        version=str(platform_configuration.get("version") or ""),
        scopes_supported=[s for s in scopes if isinstance(s, str)] if isinstance(scopes, list) else [],
        messages_supported=[m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else [],
    )


def discover(url: str, registration_token: str | None) -> PlatformConfiguration:
    url = (url or "").strip()
    if not url:
        raise RegistrationError(_("Open this page from your LMS's tool registration: the openid_configuration "
                                  "parameter is missing."))
    return parse_configuration(url, fetch_configuration(url, registration_token))


@dataclass
class ToolEndpoints:
    """Our own URLs as the LMS must see them (PORTFOLIO_BASE_URL)."""

    launch: str
    login: str
    jwks: str
    logo: str | None = None


def _messages(config: PlatformConfiguration, tool: ToolEndpoints, label: str) -> list[dict]:
    resource_link = {"type": "LtiResourceLinkRequest", "target_link_uri": tool.launch, "label": label}
    deep_link = {"type": "LtiDeepLinkingRequest", "target_link_uri": tool.launch, "label": label}
    if config.product_family == "canvas":
        resource_link["placements"] = ["course_navigation"]
        deep_link["placements"] = ["assignment_selection", "link_selection"]
    elif config.product_family == "moodle":
        # Moodle offers deep linking in the activity chooser ("ContentArea").
        deep_link["placements"] = ["ContentArea"]
    return [resource_link, deep_link]


def client_registration(config: PlatformConfiguration, tool: ToolEndpoints, *, name: str, description: str) -> dict:
    """Our client registration request (spec §3.5.2 and its tool configuration claim)."""
    custom = ({"canvas_user_timezone": "$Person.address.timezone"} if config.product_family == "canvas"
              else {"timezone": "$Person.address.timezone"})
    request = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.login,
        "redirect_uris": [tool.launch],
        "client_name": name,
        "jwks_uri": tool.jwks,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(config.scopes),
        TOOL_CONFIGURATION: {
            "domain": urlsplit(tool.launch).netloc,
            "target_link_uri": tool.launch,
            "custom_parameters": custom,
            "claims": CLAIMS,
            "messages": _messages(config, tool, name),
            "description": description,
        },
    }
    if tool.logo:
        request["logo_uri"] = tool.logo
    return request


def _platform_error(answer: object) -> str:
    if isinstance(answer, dict):
        parts = [str(answer.get(k)) for k in ("error", "error_description", "message", "errors") if answer.get(k)]
        if parts:
            return ": ".join(parts)[:500]
    return ""


def submit(config: PlatformConfiguration, registration: dict, registration_token: str | None) -> dict:
    """POST the registration request; the answer must name our client id."""
    try:
        response = http.session().post(config.registration_endpoint, json=registration,
                                       headers=_auth_headers(registration_token))
    except http.UnsafeURL as error:
        raise RegistrationError(_("The LMS's registration endpoint could not be reached: %(error)s.", error=error),
                                422) from error
    except requests.RequestException as error:
        log.warning("registration endpoint %s unreachable: %s", config.registration_endpoint, error)
        raise RegistrationError(_("The LMS's registration endpoint did not answer; try again."), 422) from error
    if response.status_code >= 300:
        try:
            reason = _platform_error(response.json())
        except ValueError:
            reason = response.text[:300].strip()
        if reason:
            raise RegistrationError(_("The LMS refused the registration (HTTP %(status)s): %(reason)s",
                                      status=response.status_code, reason=reason), 422)
        raise RegistrationError(_("The LMS refused the registration (HTTP %(status)s).",
                                  status=response.status_code), 422)
    answer = _read_json(response, _("registration answer"))
    if not isinstance(answer, dict) or not isinstance(answer.get("client_id"), (str, int)) \
            or not str(answer["client_id"]).strip():
        raise RegistrationError(_("The LMS accepted the registration but its answer has no client_id."), 422)
    return answer


def deployment_id_of(answer: dict) -> str | None:
    configuration = answer.get(TOOL_CONFIGURATION)
    value = configuration.get("deployment_id") if isinstance(configuration, dict) else None
    return str(value).strip() or None if isinstance(value, (str, int)) else None


def store(config: PlatformConfiguration, answer: dict) -> tuple[Platform, str | None]:
    """Record the platform and its deployment. An existing registration of the same issuer
    and client id is extended, never re-pointed at other endpoints: that would hand its
    courses to whoever answered this registration."""
    client_id = str(answer["client_id"]).strip()
    deployment_id = deployment_id_of(answer)
    existing = db.session.scalar(sa.select(Platform).where(Platform.issuer == config.issuer,
                                                           Platform.client_id == client_id))
    if existing is not None and (existing.key_set_url, existing.auth_login_url, existing.auth_token_url) != \
            (config.jwks_uri, config.authorization_endpoint, config.token_endpoint):
        raise RegistrationError(_("This LMS registration already exists with other endpoints; the tool keeps the "
                                  "existing one. An administrator can change it on the command line."), 409)
    try:
        platform, _added = register_platform(
            issuer=config.issuer, client_id=client_id, auth_login_url=config.authorization_endpoint,
            auth_token_url=config.token_endpoint, key_set_url=config.jwks_uri,
            deployment_ids=[deployment_id] if deployment_id else [], name=config.name,
            product_family=config.product_family, via="registration",
        )
    except ValueError as error:
        raise RegistrationError(_("The LMS's answer cannot be registered: %(error)s.", error=error), 422) from error
    log.info("dynamic registration: issuer=%s client_id=%s deployment_id=%s family=%s",
             config.issuer, client_id, deployment_id, config.product_family)
    return platform, deployment_id
