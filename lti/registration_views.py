"""Setting the tool up in an LMS: LTI Dynamic Registration at ``/lti/register``, the
Canvas developer-key configuration at ``/lti/canvas.json``, and the page where a
teacher configures the activity a deep-linking launch places in the course.

``/lti/register`` is opened by the LMS, cross-site, inside its own page: the GET carries
only the platform's configuration URL and registration token and changes nothing; the
admin's confirmation is a POST with a CSRF token, which re-fetches and re-checks the
configuration rather than trusting anything the form could carry beyond those two.
"""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation

from lti import deep_linking, dynamic_registration
from lti.dynamic_registration import RegistrationError, ToolEndpoints
from lti.launch import LaunchError
from lti.models import Platform
from lti.views import external_url
from portfolio.db import db
from portfolio.people.models import Role

log = logging.getLogger(__name__)

bp = Blueprint("lti_setup", __name__, url_prefix="/lti")

# What the LMS shows its admins and teachers about the tool, in every locale the same.
TOOL_NAME = "Internship portfolio"
TOOL_DESCRIPTION = ("Interns journal their international internship week by week against the course's "
                    "objectives; workplace supervisors sign the weeks off; advisors grade the portfolio.")


def tool_endpoints() -> ToolEndpoints:
    return ToolEndpoints(launch=external_url("lti.launch"), login=external_url("lti.login"),
                         jwks=external_url("lti.jwks"),
                         logo=external_url("static", filename="img/portfolio-logo.svg"))


# --- Dynamic registration ---------------------------------------------------------------


class RegisterForm(FlaskForm):
    openid_configuration = HiddenField(validators=[DataRequired(), Length(max=2048)])
    registration_token = HiddenField(validators=[Optional(), Length(max=8192)])


@bp.errorhandler(RegistrationError)
def registration_failed(error: RegistrationError):
    db.session.rollback()
    log.warning("dynamic registration refused (%s): %s", error.code, error.description)
    return render_template("lti/register_error.html", reason=error.description), error.code


@bp.get("/register")
def register():
    """Show the admin what the LMS offers and what will be registered."""
    url = request.args.get("openid_configuration", "")
    token = request.args.get("registration_token") or None
    config = dynamic_registration.discover(url, token)
    form = RegisterForm(openid_configuration=url, registration_token=token or "")
    registration = dynamic_registration.client_registration(
        config, tool_endpoints(), name=TOOL_NAME, description=TOOL_DESCRIPTION)
    return render_template("lti/register_confirm.html", config=config, form=form, registration=registration)


@bp.post("/register")
def register_confirm():
    form = RegisterForm()
    if not form.validate_on_submit():
        raise RegistrationError(_("The registration form is incomplete or has expired. Start the registration "
                                  "again from your LMS."))
    token = form.registration_token.data or None
    config = dynamic_registration.discover(form.openid_configuration.data, token)
    registration = dynamic_registration.client_registration(
        config, tool_endpoints(), name=TOOL_NAME, description=TOOL_DESCRIPTION)
    answer = dynamic_registration.submit(config, registration, token)
    platform, deployment_id = dynamic_registration.store(config, answer)
    db.session.commit()
    return render_template("lti/register_done.html", config=config, platform=platform,
                           deployment_id=deployment_id)


# --- Canvas developer key ---------------------------------------------------------------


@bp.get("/canvas.json")
def canvas_json():
    """The JSON a Canvas admin pastes (or points to) under Developer Keys › LTI Key."""
    tool = tool_endpoints()
    domain = tool.launch.split("//", 1)[-1].split("/", 1)[0]
    configuration = {
        "title": TOOL_NAME,
        "description": TOOL_DESCRIPTION,
        "oidc_initiation_url": tool.login,
        "target_link_uri": tool.launch,
        "public_jwk_url": tool.jwks,
        "scopes": list(dynamic_registration.SCOPES),
        "extensions": [{
            "platform": "canvas.instructure.com",
            "domain": domain,
            "tool_id": "internship-portfolio",
            "privacy_level": "public",
            "settings": {
                "text": TOOL_NAME,
                "icon_url": tool.logo,
                "placements": [
                    {"placement": "course_navigation", "message_type": "LtiResourceLinkRequest",
                     "text": TOOL_NAME, "target_link_uri": tool.launch, "default": "enabled"},
                    {"placement": "link_selection", "message_type": "LtiDeepLinkingRequest",
                     "text": TOOL_NAME, "target_link_uri": tool.launch},
                    {"placement": "assignment_selection", "message_type": "LtiDeepLinkingRequest",
                     "text": TOOL_NAME, "target_link_uri": tool.launch},
                ],
            },
        }],
        "custom_fields": {"canvas_user_timezone": "$Person.address.timezone"},
    }
    response = jsonify(configuration)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- Deep linking: the activity's settings ---------------------------------------------


def finite(form, field):
    # "NaN" parses as a Decimal that cannot even be compared with a bound.
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_("Enter a positive number of points (at most 100000)."))


class DeepLinkForm(FlaskForm):
    link = HiddenField(validators=[DataRequired()])
    title = StringField(_l("Title of the activity"), validators=[DataRequired(), Length(max=255)])
    points = DecimalField(_l("Points possible"), places=None, validators=[
        DataRequired(message=_l("Enter the points the portfolio is graded out of.")), finite,
        NumberRange(min=0.01, max=100000, message=_l("Enter a positive number of points (at most 100000)."))])
    text = TextAreaField(_l("Description shown in the LMS (optional)"), validators=[Optional(), Length(max=1000)])


def can_add_activity(role: Role | None) -> bool:
    """Advisors and admins place the portfolio in a course; interns and supervisors do not."""
    return role in (Role.advisor, Role.admin)


def deep_link_page(message, provisioned):
    """The answer to a validated LtiDeepLinkingRequest launch (the caller commits)."""
    role = provisioned.membership.role if provisioned.membership else None
    if not can_add_activity(role):
        return render_template("lti/deep_link_refused.html", course=provisioned.course), 403
    link_id = deep_linking.remember(message.claims, platform=message.platform, user_id=provisioned.user.id,
                                    course_id=provisioned.course.id)
    context = deep_linking.recall(link_id)
    form = DeepLinkForm(link=link_id, title=context.title or _("Internship portfolio"),
                        points=deep_linking.DEFAULT_POINTS, text=context.text or "")
    return render_template("lti/deep_link_form.html", form=form, course=provisioned.course,
                           platform=message.platform), 200


@bp.post("/deep-link")
def deep_link_submit():
    form = DeepLinkForm()
    context = deep_linking.recall(form.link.data)
    if context is None:
        raise LaunchError(_("This activity set-up has expired or was already sent to your LMS. Start again from "
                            "your LMS's \"add an activity\" page."), 400)
    platform = db.session.get(Platform, context.platform_id)
    if platform is None or not platform.enabled:
        raise LaunchError(_("This LMS registration is disabled."), 403)
    if not form.validate_on_submit():
        return render_template("lti/deep_link_form.html", form=form, platform=platform), 422
    points = form.points.data
    points = int(points) if points == points.to_integral_value() else float(points)
    token = deep_linking.build_response(context, platform, title=form.title.data.strip(), points=points,
                                        text=(form.text.data or "").strip(), url=external_url("lti.launch"))
    deep_linking.forget(form.link.data)
    db.session.commit()  # the signing key, when this response is the first thing the tool ever signed
    log.info("deep-linking response for platform %s course %s by user %s", platform.issuer, context.course_id,
             context.user_id)
    return render_template("lti/deep_link_return.html", action=context.return_url, token=token,
                           platform=platform)
