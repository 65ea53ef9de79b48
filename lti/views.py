"""The tool's LTI endpoints: OIDC login, launch, our public keys, and the new-window
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
from lti.launch import CLAIM, HardenedLaunch, LaunchError, begin_login, state_cookie_name
from lti.models import LaunchTicket
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
    response = redirect(target.url)
    set_cross_site_cookie(response, state_cookie_name(target.state), "1", current_app.config["LTI_LOGIN_STATE_TTL"])
    return response


@bp.post("/launch")
def launch():
    message = HardenedLaunch(request.form.to_dict()).validate()
    privacy_launch = message.claims.get(CLAIM + "message_type") == "LtiDataPrivacyLaunchRequest"
    if privacy_launch and not isinstance(message.claims.get(CLAIM + "context"), dict):
        return _privacy_launch_without_course(message)
    provisioned = provision(message)
    user, course, membership = provisioned.user, provisioned.course, provisioned.membership
    record_event("signed_in", actor=user, course=course, via="launch",
                 platform=message.platform.issuer, message_type=message.claims.get("https://purl.imsglobal.org/spec/lti/claim/message_type"))
    if message.claims.get(CLAIM + "message_type") == "LtiDeepLinkingRequest":
        from lti.registration_views import deep_link_page  # it imports this module

        page = deep_link_page(message, provisioned)
        db.session.commit()
        return page
    if membership is None:
        db.session.commit()
        return render_template("lti/no_role.html", course=course), 200

    target = url_for("privacy.page" if privacy_launch else "people.home", course_id=course.id)
    if not request.cookies.get(state_cookie_name(request.form["state"])):
        # The browser did not send back the cookie we set at login: third-party cookies
        # are blocked in this frame. Offer a new window, where our cookies are first-party.
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
    response.delete_cookie(state_cookie_name(request.form["state"]), path="/lti/")
    return response


def _privacy_launch_without_course(message):
    """The LMS's data-privacy link, sent outside any course: the person's privacy page.
    Someone the tool never saw gets the notice alone: nothing is held about them."""
    user = db.session.scalar(sa.select(User).where(User.platform_id == message.platform.id,
                                                   User.lti_sub == str(message.claims.get("sub", "")).strip()))
    if user is None:
        db.session.commit()
        return redirect(url_for("privacy.notice"))
    record_event("signed_in", actor=user, via="launch", platform=message.platform.issuer,
                 message_type="LtiDataPrivacyLaunchRequest")
    db.session.commit()
    login_user(user)
    response = redirect(url_for("privacy.notice"))
    response.delete_cookie(state_cookie_name(request.form["state"]), path="/lti/")
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
