"""From a validated launch to the product's people: the user by (platform, sub), the
course by (platform, deployment, context), and one membership whose role is translated
here, once, from the LTI roles."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from lti import roles
from lti.launch import CLAIM, HardenedLaunch, LaunchError
from lti.services import record_endpoints
from portfolio.db import db
from portfolio.people import operations
from portfolio.people.models import Course, Membership, Role, User
from portfolio.signoff.operations import sync_mentor_scope


@dataclass
class Provisioned:
    user: User
    course: Course
    membership: Membership | None  # None: the launch carried no role this product knows


def launch_locale(claims: dict) -> str | None:
    """``launch_presentation.locale`` (LTI), else Canvas's top-level ``locale``."""
    presentation = claims.get(CLAIM + "launch_presentation")
    locale = presentation.get("locale") if isinstance(presentation, dict) else None
    locale = locale or claims.get("locale")
    return locale if isinstance(locale, str) else None


def launch_timezone(claims: dict) -> str | None:
    """Canvas's ``canvas_user_timezone`` or a ``timezone`` custom parameter
    (``$Person.address.timezone`` in Moodle), when the platform sends one."""
    custom = claims.get(CLAIM + "custom")
    if not isinstance(custom, dict):
        return None
    for key in ("timezone", "user_timezone", "canvas_user_timezone", "person_address_timezone"):
        value = custom.get(key)
        if isinstance(value, str) and operations.valid_timezone(value):
            return value
    return None


def _text(value) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def provision(launch: HardenedLaunch) -> Provisioned:
    claims = launch.claims
    context = claims.get(CLAIM + "context")
    if not isinstance(context, dict) or not _text(context.get("id")):
        raise LaunchError(_("The launch does not say which course it comes from (no context). "
                            "Add the tool to a course in your LMS and launch it from there."))
    name = _text(claims.get("name")) or " ".join(
        part for part in (_text(claims.get("given_name")), _text(claims.get("family_name"))) if part
    ) or None
    user = operations.provision_user(
        operations.LaunchedPerson(
            platform_id=launch.platform.id,
            sub=claims["sub"].strip(),
            name=name,
            email=_text(claims.get("email")),
            locale=launch_locale(claims),
            timezone=launch_timezone(claims),
        )
    )
    course = operations.provision_course(
        operations.LaunchedCourse(
            platform_id=launch.platform.id,
            deployment_id=launch.deployment.id,
            context_id=context["id"].strip()[:255],
            title=_text(context.get("title")),
            label=_text(context.get("label")),
        )
    )
    record_endpoints(course, claims)
    role = roles.translate(claims.get(CLAIM + "roles"))
    membership = operations.set_membership(user, course, role, via="launch") if role else None
    if role is Role.supervisor:
        mentees = claims.get(CLAIM + "role_scope_mentor")
        subs = [m for m in mentees if isinstance(m, str)] if isinstance(mentees, list) else []
        intern_ids = set(db.session.scalars(sa.select(User.id).where(
            User.platform_id == launch.platform.id, User.lti_sub.in_(subs)))) if subs else set()
        sync_mentor_scope(membership, intern_ids)
    return Provisioned(user=user, course=course, membership=membership)
