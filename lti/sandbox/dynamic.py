"""The sandbox LMS's side of the tool's set-up messages.

Dynamic Registration: each shape publishes an OpenID configuration at
``/sandbox/<shape>/.well-known/openid-configuration`` (the Moodle shape modelled on a
real Moodle 4.5 document; the Canvas shape, like Canvas, answers only with the Bearer
registration token), a registration endpoint that checks the token and the tool's
request and hands out a client id and a deployment id, and a page that starts a
registration by opening the tool's registration URL with a one-time token. Tools
registered this way log in through their own authorization and token endpoints, which
accept the client ids the sandbox gave out.

Deep Linking: a deep-linking launch carries ``deep_linking_settings`` whose return URL is
``/sandbox/<shape>/deep-link-return``; that endpoint verifies the tool's signed response
against the tool's published keys and keeps the content items it received.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

import jwt as pyjwt
import sqlalchemy as sa
from flask import Blueprint, abort, jsonify, render_template, request
from sqlalchemy.exc import IntegrityError

from lti import http
from lti.keys import public_pem
from lti.sandbox import platform as sandbox
from lti.sandbox.links import SandboxResourceLink, SandboxToolRegistration
from lti.views import external_url
from portfolio.db import db, utcnow

bp = Blueprint("sandbox_dynamic", __name__, url_prefix="/sandbox")

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
REGISTRATION_TOKEN_TTL = timedelta(hours=1)
SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
]


def _shape(shape: str) -> str:
    if shape not in sandbox.SHAPES:
        abort(404)
    return shape


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


def pending_registration(shape: str, token: str | None) -> SandboxToolRegistration | None:
    """The unexpired, unused registration the token opens, for this shape."""
    if not token:
        return None
    return db.session.scalar(sa.select(SandboxToolRegistration).where(
        SandboxToolRegistration.token_hash == _token_hash(token), SandboxToolRegistration.shape == shape,
        SandboxToolRegistration.registered_at.is_(None), SandboxToolRegistration.token_expires_at > utcnow()))


# --- The OpenID configuration ---------------------------------------------------------------


def openid_configuration_document(shape: str) -> dict:
    """The platform's configuration as Moodle 4.5 (shared/fixtures) or Canvas publish it."""
    document = {
        "issuer": sandbox.issuer(shape),
        "authorization_endpoint": external_url("sandbox_dynamic.authorize", shape=shape),
        "registration_endpoint": external_url("sandbox_dynamic.register", shape=shape),
        "jwks_uri": external_url("sandbox.jwks", shape=shape),
        "token_endpoint": external_url("sandbox_dynamic.token", shape=shape),
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", *SCOPES],
        "response_types_supported": ["id_token"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
        "subject_types_supported": ["public", "pairwise"],
    }
    if shape == "moodle":
        document["https://purl.imsglobal.org/spec/lti-platform-configuration"] = {
            "product_family_code": "moodle",
            "version": "4.5.6 (Build: 20250811)",
            "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                   {"type": "LtiDeepLinkingRequest", "placements": ["ContentArea"]}],
            "variables": ["Context.id", "Context.title", "ResourceLink.id", "User.id", "Person.name.full",
                          "Person.email.primary", "Person.address.timezone", "Membership.role"],
        }
    else:
        document["claims_supported"] += ["locale", "picture"]
        document["authorization_server"] = external_url("sandbox.course").rstrip("/")
        document["https://purl.imsglobal.org/spec/lti-platform-configuration"] = {
            "product_family_code": "canvas",
            "version": "OpenSource",
            "messages_supported": [
                {"type": "LtiResourceLinkRequest", "placements": ["course_navigation", "account_navigation"]},
                {"type": "LtiDeepLinkingRequest",
                 "placements": ["assignment_selection", "link_selection", "editor_button"]},
            ],
            "variables": ["Canvas.course.id", "Person.address.timezone", "ResourceLink.id"],
            "https://canvas.instructure.com/lti/account_name": "Sandbox University",
        }
    return document


@bp.get("/<shape>/.well-known/openid-configuration")
def openid_configuration(shape: str):
    _shape(shape)
    if shape == "canvas" and pending_registration(shape, _bearer()) is None:
        # Canvas answers its configuration only to the holder of a registration token.
        return jsonify(error="unauthorized", error_description="a valid registration token is required"), 401
    return jsonify(openid_configuration_document(shape))


# --- The registration endpoint --------------------------------------------------------------


def registration_problems(body: object) -> list[str]:
    """What the sandbox (like Moodle and Canvas) requires of a client registration request."""
    if not isinstance(body, dict):
        return ["the request body must be a JSON object"]
    problems = []
    if body.get("application_type") != "web":
        problems.append("application_type must be web")
    if "id_token" not in (body.get("response_types") or []):
        problems.append("response_types must contain id_token")
    grants = body.get("grant_types") or []
    if "implicit" not in grants or "client_credentials" not in grants:
        problems.append("grant_types must contain implicit and client_credentials")
    if body.get("token_endpoint_auth_method") != "private_key_jwt":
        problems.append("token_endpoint_auth_method must be private_key_jwt")
    for name in ("initiate_login_uri", "jwks_uri"):
        try:
            http.check_url(body.get(name) or "")
        except http.UnsafeURL:
            problems.append(f"{name} must be an http(s) URL")
    redirect_uris = body.get("redirect_uris")
    if not isinstance(redirect_uris, list) or not redirect_uris:
        problems.append("redirect_uris must list at least one URL")
    if not isinstance(body.get("client_name"), str) or not body["client_name"].strip():
        problems.append("client_name is required")
    configuration = body.get(TOOL_CONFIGURATION)
    if not isinstance(configuration, dict):
        problems.append(f"{TOOL_CONFIGURATION} is required")
        return problems
    target = configuration.get("target_link_uri") or ""
    if not configuration.get("domain") or urlsplit(target).netloc != configuration.get("domain"):
        problems.append("the tool configuration's domain must be the host of its target_link_uri")
    messages = configuration.get("messages")
    if not isinstance(messages, list) or not all(isinstance(m, dict) and m.get("type") for m in messages):
        problems.append("the tool configuration's messages must each have a type")
    unknown = set((body.get("scope") or "").split()) - set(SCOPES)
    if unknown:
        problems.append("unsupported scopes: " + " ".join(sorted(unknown)))
    return problems


@bp.post("/<shape>/registrations")
def register(shape: str):
    _shape(shape)
    registration = pending_registration(shape, _bearer())
    if registration is None:
        return jsonify(error="invalid_token", error_description="the registration token is missing, used or expired"), 401
    body = request.get_json(silent=True)
    problems = registration_problems(body)
    if problems:
        return jsonify(error="invalid_client_metadata", error_description="; ".join(problems)), 400
    if shape == "moodle":
        client_id = secrets.token_urlsafe(11)[:15]
        deployment_id = str(registration.id + 1)
    else:
        client_id = str(10000000000100 + registration.id)
        deployment_id = f"{registration.id}:{secrets.token_hex(20)}"
    registration.client_id, registration.deployment_id = client_id, deployment_id
    registration.client_name = body["client_name"].strip()[:255]
    registration.configuration = body
    registration.registered_at = utcnow()
    db.session.commit()
    answer = dict(body, client_id=client_id)
    answer[TOOL_CONFIGURATION] = dict(body[TOOL_CONFIGURATION], deployment_id=deployment_id, version="1.3.0")
    return jsonify(answer), 200


@bp.route("/<shape>/register-tool", methods=["GET", "POST"])
def start_registration(shape: str):
    """The admin's "register a tool by URL": a one-time token, then the tool's page in a frame."""
    _shape(shape)
    tool_url = (request.form.get("tool_url") or external_url("lti_setup.register")).strip()
    if request.method == "GET":
        return render_template("sandbox/register_tool.html", shape=shape, tool_url=tool_url)
    try:
        http.check_url(tool_url)
    except http.UnsafeURL:
        return render_template("sandbox/register_tool.html", shape=shape, tool_url=tool_url,
                               error="Enter the tool's registration URL (http or https)."), 422
    token = secrets.token_urlsafe(32)
    db.session.add(SandboxToolRegistration(shape=shape, token_hash=_token_hash(token),
                                           token_expires_at=utcnow() + REGISTRATION_TOKEN_TTL))
    db.session.commit()
    query = {"openid_configuration": external_url("sandbox_dynamic.openid_configuration", shape=shape),
             "registration_token": token}
    separator = "&" if "?" in tool_url else "?"
    return render_template("sandbox/register_frame.html", shape=shape, frame_url=tool_url + separator + urlencode(query))


@bp.get("/registered")
def registered():
    rows = db.session.scalars(sa.select(SandboxToolRegistration).where(
        SandboxToolRegistration.registered_at.is_not(None)).order_by(SandboxToolRegistration.id)).all()
    links = db.session.scalars(sa.select(SandboxResourceLink).order_by(SandboxResourceLink.id)).all()
    return render_template("sandbox/registered.html", registrations=rows, links=links, people=sandbox.PEOPLE)


# --- Launches of dynamically registered tools -----------------------------------------------


def _registered_client(shape: str, client_id: str | None) -> SandboxToolRegistration | None:
    if not client_id:
        return None
    return db.session.scalar(sa.select(SandboxToolRegistration).where(
        SandboxToolRegistration.shape == shape, SandboxToolRegistration.client_id == client_id,
        SandboxToolRegistration.registered_at.is_not(None)))


@bp.get("/registered/<int:registration_id>/launch/<person_key>")
def launch(registration_id: int, person_key: str):
    """The LMS page with a dynamically registered tool in its frame."""
    registration = db.session.get(SandboxToolRegistration, registration_id)
    if registration is None or registration.registered_at is None:
        abort(404)
    person = sandbox.PEOPLE_BY_KEY.get(person_key) or abort(404)
    shape = registration.shape
    message_type = request.args.get("message_type", "LtiResourceLinkRequest")
    configuration = (registration.configuration or {}).get(TOOL_CONFIGURATION) or {}
    params = {
        "iss": sandbox.issuer(shape), "login_hint": sandbox.sub_for(person, shape),
        "target_link_uri": configuration.get("target_link_uri") or external_url("lti.launch"),
        "lti_message_hint": f"{person.key}:{message_type}", "client_id": registration.client_id,
        ("lti_deployment_id" if shape == "moodle" else "deployment_id"): registration.deployment_id,
    }
    login_url = registration.configuration["initiate_login_uri"] + "?" + urlencode(params)
    return render_template("sandbox/launch.html", person=person, shape=shape, login_url=login_url,
                           context=sandbox.CONTEXT)


@bp.route("/<shape>/dynamic-auth", methods=["GET", "POST"])
def authorize(shape: str):
    """The OIDC authorization endpoint for tools registered by URL."""
    _shape(shape)
    params = request.values
    registration = _registered_client(shape, params.get("client_id"))
    problems = []
    if registration is None:
        problems.append("unknown client_id")
    elif params.get("redirect_uri") not in registration.redirect_uris:
        problems.append("redirect_uri is not registered for this tool")
    if params.get("scope") != "openid" or params.get("response_type") != "id_token" \
            or params.get("response_mode") != "form_post":
        problems.append("scope, response_type and response_mode must be openid, id_token and form_post")
    if not params.get("nonce") or not params.get("state"):
        problems.append("nonce and state are required")
    person_key, _, message_type = (params.get("lti_message_hint") or "").partition(":")
    person = sandbox.PEOPLE_BY_KEY.get(person_key)
    if person is None or params.get("login_hint") != sandbox.sub_for(person, shape):
        problems.append("login_hint does not name a person of this LMS")
    if problems:
        return render_template("sandbox/auth_error.html", problems=problems), 400
    target = ((registration.configuration or {}).get(TOOL_CONFIGURATION) or {}).get("target_link_uri")
    claims = sandbox.launch_claims(person, shape, nonce=params["nonce"], target_link_uri=target,
                                   message_type=message_type or "LtiResourceLinkRequest")
    claims["aud"] = registration.client_id
    if "azp" in claims:
        claims["azp"] = registration.client_id
    claims[sandbox.CLAIM + "deployment_id"] = registration.deployment_id
    return render_template("sandbox/form_post.html", action=params["redirect_uri"],
                           fields={"id_token": sandbox.sign(claims), "state": params["state"]})


def _tool_key(jwks_url: str, token: str):
    kid = pyjwt.get_unverified_header(token).get("kid")
    keys = http.session().get(jwks_url).json()["keys"]
    return pyjwt.PyJWK(next(k for k in keys if k.get("kid") == kid)).key


@bp.post("/<shape>/dynamic-token")
def token(shape: str):
    """OAuth 2 client credentials for tools registered by URL (a client assertion signed
    with the key at the jwks_uri the tool registered)."""
    _shape(shape)
    form = request.form
    if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        return jsonify(error="unsupported_grant_type"), 400
    assertion = form.get("client_assertion", "")
    try:
        client_id = pyjwt.decode(assertion, options={"verify_signature": False}).get("iss")
        registration = _registered_client(shape, client_id)
        if registration is None:
            raise KeyError(client_id)
        claims = pyjwt.decode(
            assertion, _tool_key(registration.configuration["jwks_uri"], assertion), algorithms=["RS256"],
            audience=[external_url("sandbox_dynamic.token", shape=shape), sandbox.issuer(shape)],
            options={"require": ["exp", "iat", "iss", "sub", "jti"]},
        )
    except (pyjwt.PyJWTError, StopIteration, KeyError, TypeError, ValueError, OSError):
        return jsonify(error="invalid_client"), 401
    if claims["sub"] != registration.client_id:
        return jsonify(error="invalid_client"), 401
    granted = " ".join(s for s in form.get("scope", "").split() if s in SCOPES)
    now = int(time.time())
    access = sandbox.sign({"iss": sandbox.issuer(shape), "sub": registration.client_id, "scope": granted,
                           "iat": now, "exp": now + 3600})
    return jsonify(access_token=access, token_type="Bearer", expires_in=3600, scope=granted)


# --- Deep linking -------------------------------------------------------------------------


def deep_linking_settings(shape: str) -> dict:
    """The settings claim of a deep-linking launch: ``data`` is signed by the sandbox, so
    the return endpoint knows the tool echoed what the sandbox sent, without storing it."""
    now = int(time.time())
    data = sandbox.sign({"iss": sandbox.issuer(shape), "purpose": "deep-linking", "iat": now, "exp": now + 3600,
                         "jti": secrets.token_urlsafe(12)})
    return {
        "deep_link_return_url": external_url("sandbox_dynamic.deep_link_return", shape=shape),
        "accept_types": ["ltiResourceLink"],
        "accept_presentation_document_targets": ["frame", "iframe", "window"] if shape == "moodle"
        else ["iframe", "window"],
        "accept_multiple": shape == "moodle",
        "accept_lineitem": True,
        "auto_create": shape == "canvas",
        "title": "",
        "text": "",
        "data": data,
    }


def _known_clients(shape: str) -> dict[str, str]:
    """client id → deployment id of every tool this shape knows."""
    clients = {sandbox.CLIENT_IDS[shape]: sandbox.DEPLOYMENT_IDS[shape]}
    rows = db.session.execute(sa.select(SandboxToolRegistration.client_id, SandboxToolRegistration.deployment_id)
                              .where(SandboxToolRegistration.shape == shape,
                                     SandboxToolRegistration.client_id.is_not(None))).all()
    clients.update({client_id: deployment_id for client_id, deployment_id in rows})
    return clients


def verify_deep_linking_response(shape: str, token: str) -> tuple[dict | None, list[str]]:
    """The verified claims of a deep-linking response, or the problems found."""
    try:
        header = pyjwt.get_unverified_header(token)
        unverified = pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.PyJWTError:
        return None, ["the JWT field is not a JWT"]
    if header.get("alg") != "RS256" or not header.get("kid"):
        return None, ["the response must be signed with RS256 and name its key (kid)"]
    clients = _known_clients(shape)
    if unverified.get("iss") not in clients:
        return None, ["iss is not a client id of a tool registered with this LMS"]
    try:
        claims = pyjwt.decode(token, _tool_key(external_url("lti.jwks"), token), algorithms=["RS256"],
                              audience=sandbox.issuer(shape), leeway=60,
                              options={"require": ["exp", "iat", "iss", "aud", "nonce"]})
    except StopIteration:
        return None, ["the tool does not publish the key the response is signed with"]
    except (pyjwt.PyJWTError, KeyError, ValueError, OSError) as error:
        return None, [f"the response does not verify: {error}"]
    problems = []
    if claims.get(sandbox.CLAIM + "message_type") != "LtiDeepLinkingResponse":
        problems.append("message_type must be LtiDeepLinkingResponse")
    if claims.get(sandbox.CLAIM + "version") != "1.3.0":
        problems.append("version must be 1.3.0")
    if claims.get(sandbox.CLAIM + "deployment_id") != clients[claims["iss"]]:
        problems.append("deployment_id is not the tool's deployment")
    try:
        data = pyjwt.decode(claims.get(DL + "data") or "", public_pem(sandbox.signing_key()[0]), algorithms=["RS256"])
        if data.get("purpose") != "deep-linking" or data.get("iss") != sandbox.issuer(shape):
            raise pyjwt.InvalidTokenError("not this LMS's data")
    except (pyjwt.PyJWTError, AttributeError):
        problems.append("data is not the value this LMS sent with the request")
    items = claims.get(DL + "content_items")
    if not isinstance(items, list):
        problems.append("content_items must be a list")
    elif any(not isinstance(i, dict) or i.get("type") != "ltiResourceLink" for i in items):
        problems.append("this LMS accepts only ltiResourceLink content items")
    return (None if problems else claims), problems


def _line_item(shape: str, resource_link_id: str, line_item: dict):
    """A gradebook column for the new activity, as the LMS makes one for a lineItem."""
    from lti.sandbox.models import SandboxLineItem

    row = SandboxLineItem(
        shape=shape, context_id=sandbox.CONTEXT["id"], key=secrets.token_hex(8),
        label=str(line_item.get("label") or "Internship portfolio")[:255],
        score_maximum=float(line_item["scoreMaximum"]), resource_link_id=resource_link_id,
        resource_id=line_item.get("resourceId"), tag=line_item.get("tag"),
    )
    db.session.add(row)
    return row


@bp.post("/<shape>/deep-link-return")
def deep_link_return(shape: str):
    _shape(shape)
    claims, problems = verify_deep_linking_response(shape, request.form.get("JWT", ""))
    if claims is None:
        return render_template("sandbox/deep_link_received.html", shape=shape, problems=problems, links=[]), 400
    links = []
    try:
        with db.session.begin_nested():
            for position, item in enumerate(claims[DL + "content_items"]):
                line_item = item.get("lineItem") if isinstance(item.get("lineItem"), dict) else None
                link = SandboxResourceLink(
                    shape=shape, client_id=claims["iss"], deployment_id=claims[sandbox.CLAIM + "deployment_id"],
                    nonce=str(claims["nonce"])[:255], position=position, title=str(item.get("title") or "")[:255],
                    text=str(item.get("text") or ""), url=item.get("url"), line_item=line_item, content_item=item,
                )
                db.session.add(link)
                db.session.flush()
                if line_item and isinstance(line_item.get("scoreMaximum"), (int, float)):
                    _line_item(shape, f"dl-{link.id}", line_item)
                links.append(link)
    except IntegrityError:
        return render_template("sandbox/deep_link_received.html", shape=shape, links=[],
                               problems=["this response was already received (its nonce was used)"]), 400
    db.session.commit()
    return render_template("sandbox/deep_link_received.html", shape=shape, problems=[], links=links)
