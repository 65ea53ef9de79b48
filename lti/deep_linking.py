"""LTI Deep Linking 2.0: how a teacher places the portfolio in a course.

The LMS sends an ``LtiDeepLinkingRequest`` launch whose ``deep_linking_settings`` claim
says where to return (``deep_link_return_url``), which content types it accepts and an
opaque ``data`` value to echo. The tool shows its own page (title, points, text); on
submit it answers with an ``LtiDeepLinkingResponse``: a JWT signed with the tool's key,
``iss`` our client id and ``aud`` the platform, carrying one ``ltiResourceLink`` content
item whose ``lineItem`` makes the LMS create the gradebook column the grade goes to.
The browser posts it (``form_post``, field ``JWT``) to the return URL.

Between the launch and the submit, the launch's settings are kept server-side in the
session under a random id: the form carries only that id, never the return URL or data.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass

import jwt
from flask import session
from flask_babel import gettext as _
from pylti1p3.deep_link import DeepLink
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.lineitem import LineItem

from lti import http, keys
from lti.launch import CLAIM, LaunchError
from lti.models import Platform
from lti.registry import to_registration

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RESOURCE_LINK = "ltiResourceLink"
RESOURCE_ID = "portfolio"
TAG = "portfolio-grade"
DEFAULT_TITLE = "Internship portfolio"
DEFAULT_POINTS = 100
# How long the teacher may take to fill the form; a platform's own return URL is
# usually tied to its session, which lasts about as long.
TTL = 3600
SESSION_KEY = "lti_deep_links"
MAX_PENDING = 3  # the session is a cookie: a platform's data value can be a long JWT


@dataclass
class DeepLinkContext:
    """What the deep-linking launch asked for, kept until the form is submitted."""

    platform_id: int
    deployment_id: str
    user_id: int
    course_id: int
    return_url: str
    accept_multiple: bool
    accept_lineitem: bool
    data: object | None
    title: str | None
    text: str | None
    expires_at: float


def settings_from_claims(claims: dict) -> dict:
    """The request's ``deep_linking_settings``, checked; a LaunchError says what is wrong."""
    settings = claims.get(DL + "deep_linking_settings")
    if not isinstance(settings, dict):
        raise LaunchError(_("The deep-linking launch has no deep_linking_settings claim, so the tool cannot tell "
                            "your LMS where to put the activity. This is a problem of the LMS's request."))
    return_url = settings.get("deep_link_return_url")
    if not isinstance(return_url, str) or not return_url.strip():
        raise LaunchError(_("The deep-linking launch's settings have no deep_link_return_url: the tool does not "
                            "know where to send the activity back to your LMS."))
    try:
        http.check_url(return_url)
    except http.UnsafeURL as error:
        raise LaunchError(_("The deep-linking launch's deep_link_return_url is not an http(s) URL.")) from error
    accept_types = settings.get("accept_types")
    if not isinstance(accept_types, list) or RESOURCE_LINK not in accept_types:
        offered = ", ".join(str(t) for t in accept_types) if isinstance(accept_types, list) else _("none")
        raise LaunchError(_("Your LMS asked for content of the types: %(offered)s. This tool can only be added as "
                            "an LTI resource link (ltiResourceLink); add it where the LMS lets you add an external "
                            "tool activity or assignment.", offered=offered))
    targets = settings.get("accept_presentation_document_targets")
    if not isinstance(targets, list) or not targets:
        raise LaunchError(_("The deep-linking launch's settings do not say how the activity may be shown "
                            "(accept_presentation_document_targets is missing)."))
    return settings


def _flag(value, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return default


def remember(claims: dict, *, platform: Platform, user_id: int, course_id: int) -> str:
    """Keep the launch's settings in the session; return the random id the form carries."""
    settings = settings_from_claims(claims)
    context = DeepLinkContext(
        platform_id=platform.id,
        deployment_id=claims[CLAIM + "deployment_id"],
        user_id=user_id,
        course_id=course_id,
        return_url=settings["deep_link_return_url"].strip(),
        accept_multiple=_flag(settings.get("accept_multiple"), True),
        accept_lineitem=_flag(settings.get("accept_lineitem"), True),
        data=settings.get("data"),
        title=settings.get("title") if isinstance(settings.get("title"), str) else None,
        text=settings.get("text") if isinstance(settings.get("text"), str) else None,
        expires_at=time.time() + TTL,
    )
    now = time.time()
    pending = {k: v for k, v in (session.get(SESSION_KEY) or {}).items()
               if isinstance(v, dict) and v.get("expires_at", 0) > now}
    # The oldest go first: a teacher has few set-up pages open at a time.
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k]["expires_at"]))
    link_id = secrets.token_urlsafe(24)
    pending[link_id] = asdict(context)
    session[SESSION_KEY] = pending
    return link_id


def recall(link_id: str | None) -> DeepLinkContext | None:
    """The unexpired context behind a form's id, if this browser's session holds it."""
    found = (session.get(SESSION_KEY) or {}).get(link_id or "")
    if not isinstance(found, dict) or found.get("expires_at", 0) <= time.time():
        return None
    return DeepLinkContext(**found)


def forget(link_id: str) -> None:
    pending = dict(session.get(SESSION_KEY) or {})
    pending.pop(link_id, None)
    session[SESSION_KEY] = pending


def content_item(*, title: str, points: float, text: str, url: str, with_line_item: bool) -> dict:
    """The one ``ltiResourceLink`` the tool offers, built with pylti1p3's resource."""
    resource = DeepLinkResource().set_title(title).set_url(url)
    if with_line_item:
        line_item = LineItem().set_score_maximum(points).set_label(title).set_resource_id(RESOURCE_ID).set_tag(TAG)
        resource.set_lineitem(line_item)
    item = resource.to_dict()
    if not item.get("custom"):
        item.pop("custom", None)
    if text:
        item["text"] = text
    return item


def response_claims(context: DeepLinkContext, platform: Platform, items: list[dict]) -> dict:
    """The LtiDeepLinkingResponse body: pylti1p3's message, with the data claim only when
    the request had one (an echoed ``null`` confuses some platforms)."""
    deep_link = DeepLink(to_registration(platform), context.deployment_id, {
        "deep_link_return_url": context.return_url, "accept_types": [RESOURCE_LINK],
        "accept_presentation_document_targets": ["iframe", "window"], "data": context.data,
    })
    claims = deep_link.get_message_jwt([])
    claims[DL + "content_items"] = items
    claims["aud"] = platform.issuer
    if context.data is None:
        claims.pop(DL + "data", None)
    return claims


def sign(claims: dict) -> str:
    """RS256 with the tool's active key, its ``kid`` in the header (what /lti/jwks publishes)."""
    key = keys.active_key()
    return jwt.encode(claims, key.private_key_pem, algorithm="RS256", headers={"kid": key.kid})


def build_response(context: DeepLinkContext, platform: Platform, *, title: str, points: float, text: str,
                   url: str) -> str:
    item = content_item(title=title, points=points, text=text, url=url, with_line_item=context.accept_lineitem)
    return sign(response_claims(context, platform, [item]))
