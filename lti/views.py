"""The tool's LTI endpoints: OIDC login, launch, our public keys, the platform-storage
check of a launch (``lti_storage_target``, see lti.platform_storage) and the new-window
continuation for browsers that block cookies inside the LMS frame."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_user

from lti import keys
from lti import platform_storage
from lti.launch import CLAIM, HardenedLaunch, LaunchError, begin_login, state_cookie_name, state_hash
from lti.models import Deployment, LaunchTicket, LoginState, Platform
from lti.provisioning import provision
from portfolio.audit.operations import record_event
from portfolio.db import db, utcnow
from portfolio.people.models import Course, User

bp = Blueprint("lti", __name__, url_prefix="/lti")


def external_url(endpoint: str, **values) -> str:
    """An absolute URL as the LMS sees us (``PORTFOLIO_BASE_URL`` behind a proxy)."""
    base = current_app.config["BASE_URL"]
    if base:
        return base + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def set_cross_site_cookie(response, name: str, value: str, max_age: int) -> None:
    cross_site = current_app.config["CROSS_SITE_COOKIES"]
    # Partitioned like the session cookie: with third-party cookies blocked, both live or
    # both go, and a launch without them takes the new-window path.
    partitioned = cross_site and current_app.config.get("SESSION_COOKIE_PARTITIONED", True)
    response.set_cookie(
        name, value, max_age=max_age, httponly=True, path="/lti/",
        secure=cross_site, samesite="None" if cross_site else "Lax", partitioned=partitioned,
    )


@bp.route("/login", methods=["GET", "POST"])
def login():
    params = request.form if request.method == "POST" else request.args
    target = begin_login(params.to_dict(), launch_url=external_url("lti.launch"))
    db.session.commit()
    if target.login.storage_target:
        response = make_response(render_template(
            "lti/storage_login.html", target=target.login.storage_target, continue_url=target.url,
            key=platform_storage.storage_key(target.state), value=platform_storage.storage_value(target.login),
            state=target.state,
        ))
        response.headers["Cache-Control"] = "no-store"
    else:
        response = redirect(target.url)
    set_cross_site_cookie(response, state_cookie_name(target.state), "1", current_app.config["LTI_LOGIN_STATE_TTL"])
    return response


@bp.post("/login/without-storage")
def login_without_storage():
    """The LMS frame did not answer the login page's ``lti.put_data``: this login goes on
    with the state cookie alone, like a login that never offered platform storage."""
    state = request.form.get("state", "")
    db.session.execute(sa.update(LoginState)
                       .where(LoginState.state_hash == state_hash(state), LoginState.used_at.is_(None))
                       .values(storage_target=None))
    db.session.commit()
    return "", 204


@bp.post("/launch")
def launch():
    message = HardenedLaunch(request.form.to_dict()).validate()
    state = request.form["state"]
    cookie_came_back = bool(request.cookies.get(state_cookie_name(state)))
    if not cookie_came_back and message.login.storage_target:
        # The state and nonce are spent; the launch waits, server-side, for the LMS frame
        # to hand back what the login page stored there.
        token = platform_storage.keep_pending(db.session, message)
        db.session.commit()
        response = make_response(render_template(
            "lti/storage_launch.html", target=message.login.storage_target, key=platform_storage.storage_key(state),
            launch=token,
        ))
        response.headers["Cache-Control"] = "no-store"
        set_cross_site_cookie(response, platform_storage.PROBE_COOKIE, "1", platform_storage.PENDING_TTL)
        return response
    return accept_launch(message, binding="cookie" if cookie_came_back else "none",
                         keep_session=cookie_came_back, state=state)


@bp.post("/launch/verify")
def verify_launch():
    """The platform-storage check of a pending launch: the value the LMS frame kept for
    this login must be the one the login stored. The pending launch is spent first, so a
    wrong or replayed value never gets a second try."""
    pending = platform_storage.claim_pending(db.session, request.form.get("launch", ""))
    db.session.commit()
    if pending is None:
        raise LaunchError(_("This launch was already checked or has expired. Open the tool again from your LMS."), 400)
    login = db.session.get(LoginState, pending.login_state_id)
    platform = db.session.get(Platform, pending.platform_id)
    deployment = db.session.get(Deployment, pending.deployment_id)
    if login is None or platform is None or deployment is None:
        raise LaunchError(_("This launch has expired. Open the tool again from your LMS."), 400)
    value = request.form.get("value", "")
    if not value:
        raise LaunchError(_("Your LMS did not give back the value stored for this launch, so it cannot be "
                            "checked. Open the tool again from your LMS."), 401)
    if not platform_storage.matches(login, value):
        raise LaunchError(_("The value your LMS gave back is not the one stored for this launch. "
                            "Open the tool again from your LMS."), 401)
    message = platform_storage.VerifiedLaunch(claims=pending.claims, platform=platform, deployment=deployment,
                                              login=login)
    response = accept_launch(message, binding="platform-storage",
                             keep_session=bool(request.cookies.get(platform_storage.PROBE_COOKIE)), state=None)
    if request.cookies.get(platform_storage.PROBE_COOKIE):
        response.delete_cookie(platform_storage.PROBE_COOKIE, path="/lti/")
    return response


def accept_launch(message, *, binding: str, keep_session: bool, state: str | None):
    """A launch whose binding to the login's browser holds (or, with ``none``, could not
    be checked by any means the browser left us): provision and sign in."""
    privacy_launch = message.claims.get(CLAIM + "message_type") == "LtiDataPrivacyLaunchRequest"
    if privacy_launch and not isinstance(message.claims.get(CLAIM + "context"), dict):
        return _privacy_launch_without_course(message, state, binding)
    provisioned = provision(message)
    user, course, membership = provisioned.user, provisioned.course, provisioned.membership
    record_event("signed_in", actor=user, course=course, via="launch",
                 platform=message.platform.issuer, message_type=message.claims.get("https://purl.imsglobal.org/spec/lti/claim/message_type"),
                 binding=binding)
    if message.claims.get(CLAIM + "message_type") == "LtiDeepLinkingRequest":
        from lti.registration_views import deep_link_page  # it imports this module

        page = deep_link_page(message, provisioned)
        db.session.commit()
        return page
    if membership is None:
        db.session.commit()
        return render_template("lti/no_role.html", course=course), 200

    target = url_for("privacy.page" if privacy_launch else "people.home", course_id=course.id)
    if not keep_session:
        # The browser did not send back the cookie we set: third-party cookies are
        # blocked in this frame. Offer a new window, where our cookies are first-party.
        token = secrets.token_urlsafe(32)
        db.session.add(LaunchTicket(
            token_hash=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id, course_id=course.id,
            target=target, locale=user.effective_locale,
            expires_at=utcnow() + timedelta(seconds=current_app.config["LTI_TICKET_TTL"]),
        ))
        db.session.commit()
        return render_template("lti/continue.html", token=token, course=course), 200

    db.session.commit()
    login_user(user)
    response = redirect(target)
    if state:
        response.delete_cookie(state_cookie_name(state), path="/lti/")
    return response


def _privacy_launch_without_course(message, state: str | None, binding: str):
    """The LMS's data-privacy link, sent outside any course: the person's privacy page.
    Someone the tool never saw gets the notice alone: nothing is held about them."""
    user = db.session.scalar(sa.select(User).where(User.platform_id == message.platform.id,
                                                   User.lti_sub == str(message.claims.get("sub", "")).strip()))
    if user is None:
        db.session.commit()
        return redirect(url_for("privacy.notice"))
    record_event("signed_in", actor=user, via="launch", platform=message.platform.issuer,
                 message_type="LtiDataPrivacyLaunchRequest", binding=binding)
    db.session.commit()
    login_user(user)
    response = redirect(url_for("privacy.notice"))
    if state:
        response.delete_cookie(state_cookie_name(state), path="/lti/")
    return response


@bp.post("/continue")
def continue_in_window():
    """Redeem a launch ticket in a top-level window: once, and only before it expires."""
    token = request.form.get("ticket", "")
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    claimed = db.session.execute(
        sa.update(LaunchTicket)
        .where(LaunchTicket.token_hash == token_hash, LaunchTicket.used_at.is_(None), LaunchTicket.expires_at > utcnow())
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise LaunchError(_("This link was already used or has expired. Open the tool again from your LMS."), 400)
    ticket = db.session.scalar(sa.select(LaunchTicket).where(LaunchTicket.token_hash == token_hash))
    user = db.session.get(User, ticket.user_id)
    record_event("signed_in", actor=user, course=db.session.get(Course, ticket.course_id), via="launch-window")
    db.session.commit()
    login_user(user)
    return redirect(ticket.target)


@bp.get("/jwks")
def jwks():
    published = keys.jwks()
    if not published["keys"]:
        keys.active_key()
        db.session.commit()
        published = keys.jwks()
    response = make_response(jsonify(published))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
