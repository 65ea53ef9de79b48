"""The sandbox LMS's pages and endpoints (on only with ``PORTFOLIO_SANDBOX=1``)."""

from __future__ import annotations

import secrets
import time
from urllib.parse import urlencode, urlsplit

import jwt as pyjwt
from flask import Blueprint, abort, jsonify, render_template, request

from lti import http
from lti.sandbox import platform as sandbox
from lti.sandbox.registration import ensure_platforms
from lti.views import external_url
from portfolio.db import db

bp = Blueprint("sandbox", __name__, url_prefix="/sandbox")
# The tool frame's parent, the LMS page itself, holds the platform storage.
STORAGE_TARGET = "_parent"


def _shape(shape: str) -> str:
    if shape not in sandbox.SHAPES:
        abort(404)
    return shape


@bp.get("/")
def course():
    ensure_platforms()
    db.session.commit()
    return render_template("sandbox/course.html", people=sandbox.PEOPLE, context=sandbox.CONTEXT)


@bp.get("/launch/<shape>/<person_key>")
def launch(shape: str, person_key: str):
    """The LMS page with the tool in an iframe, started by a third-party login initiation."""
    _shape(shape)
    person = sandbox.PEOPLE_BY_KEY.get(person_key) or abort(404)
    ensure_platforms()
    db.session.commit()
    message_type = request.args.get("message_type", "LtiResourceLinkRequest")
    params = {
        "iss": sandbox.issuer(shape),
        "login_hint": sandbox.sub_for(person, shape),
        "target_link_uri": external_url("lti.launch"),
        "lti_message_hint": f"{person.key}:{message_type}",
        "client_id": sandbox.CLIENT_IDS[shape],
    }
    if shape == "moodle":
        params["lti_deployment_id"] = sandbox.DEPLOYMENT_IDS[shape]
    else:
        params["deployment_id"] = sandbox.DEPLOYMENT_IDS[shape]
        params["canvas_region"] = "not_configured"
        # Canvas offers platform storage: this page answers lti.put_data / lti.get_data.
        params["lti_storage_target"] = STORAGE_TARGET
    login_url = external_url("lti.login") + "?" + urlencode(params)
    # The LMS and the tool may be different sites (as in production, and in the browser
    # tests): the LMS page frames the tool's origin, nothing else.
    tool_origin = "{0.scheme}://{0.netloc}".format(urlsplit(login_url))
    page = render_template("sandbox/launch.html", person=person, shape=shape, login_url=login_url,
                           context=sandbox.CONTEXT, tool_origin=tool_origin,
                           platform_storage=shape == "canvas")
    policy = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
              f"base-uri 'self'; form-action *; frame-ancestors *; frame-src 'self' {tool_origin}")
    return page, {"Content-Security-Policy": policy}


@bp.get("/<shape>/jwks")
def jwks(shape: str):
    _shape(shape)
    return jsonify(sandbox.key_set())


@bp.route("/<shape>/auth", methods=["GET", "POST"])
def authorize(shape: str):
    """The OIDC authorization endpoint: checks the tool's request, then posts a signed
    id_token back to the tool's redirect URI (response_mode=form_post)."""
    _shape(shape)
    params = request.values
    problems = []
    if params.get("scope") != "openid":
        problems.append("scope must be openid")
    if params.get("response_type") != "id_token":
        problems.append("response_type must be id_token")
    if params.get("response_mode") != "form_post":
        problems.append("response_mode must be form_post")
    if params.get("client_id") != sandbox.CLIENT_IDS[shape]:
        problems.append("unknown client_id")
    if params.get("redirect_uri") != external_url("lti.launch"):
        problems.append("redirect_uri is not registered for this tool")
    if not params.get("nonce") or not params.get("state"):
        problems.append("nonce and state are required")
    person_key, _, message_type = (params.get("lti_message_hint") or "").partition(":")
    person = sandbox.PEOPLE_BY_KEY.get(person_key)
    if person is None or params.get("login_hint") != sandbox.sub_for(person, shape):
        problems.append("login_hint does not name a person of this LMS")
    if problems:
        return render_template("sandbox/auth_error.html", problems=problems), 400
    claims = sandbox.launch_claims(
        person, shape, nonce=params["nonce"], target_link_uri=external_url("lti.launch"),
        message_type=message_type or "LtiResourceLinkRequest",
    )
    fields = {"id_token": sandbox.sign(claims), "state": params["state"]}
    if shape == "canvas":
        fields["lti_storage_target"] = STORAGE_TARGET  # as Canvas posts it with the launch
    return render_template("sandbox/form_post.html", action=params["redirect_uri"], fields=fields)


@bp.post("/<shape>/token")
def token(shape: str):
    """OAuth 2 client credentials with a JWT client assertion signed by the tool (LTI
    Security Framework §4.1). The access token is itself a JWT signed by the sandbox,
    so the sandbox keeps no state of its own."""
    _shape(shape)
    form = request.form
    if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
        return jsonify(error="unsupported_grant_type"), 400
    assertion = form.get("client_assertion", "")
    try:
        kid = pyjwt.get_unverified_header(assertion).get("kid")
        tool_keys = http.session().get(external_url("lti.jwks")).json()["keys"]
        jwk = next(k for k in tool_keys if k.get("kid") == kid)
        claims = pyjwt.decode(
            assertion, pyjwt.PyJWK(jwk).key, algorithms=["RS256"],
            audience=[external_url("sandbox.token", shape=shape), sandbox.issuer(shape)],
            options={"require": ["exp", "iat", "iss", "sub", "jti"]},
        )
    except (pyjwt.PyJWTError, StopIteration, KeyError, ValueError, OSError):
        return jsonify(error="invalid_client"), 401
    if claims["iss"] != sandbox.CLIENT_IDS[shape] or claims["sub"] != sandbox.CLIENT_IDS[shape]:
        return jsonify(error="invalid_client"), 401
    from lti.sandbox.services import SERVICE_SCOPES

    granted = " ".join(s for s in form.get("scope", "").split() if s in SERVICE_SCOPES)
    if not granted:
        return jsonify(error="invalid_scope"), 400
    now = int(time.time())
    access = sandbox.sign({"iss": sandbox.issuer(shape), "sub": claims["sub"], "scope": granted,
                           "iat": now, "exp": now + 3600, "jti": secrets.token_urlsafe(16)})
    return jsonify(access_token=access, token_type="Bearer", expires_in=3600, scope=granted)
