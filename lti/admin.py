"""Administration of the LTI side for a platform's admins: their registration, its
deployments and the tool's published keys."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, ValidationError

from lti import keys, operations
from lti.http import check_url
from lti.models import Deployment, Platform
from portfolio.db import db
from portfolio.errors import ensure
from portfolio.people.access import load_membership

bp = Blueprint("lti_admin", __name__)


def _http_url(form, field):
    try:
        check_url(field.data or "")
    except ValueError:
        raise ValidationError(_l("Enter an http(s) URL.")) from None


class DeploymentForm(FlaskForm):
    deployment_id = StringField(_l("Deployment id"), validators=[InputRequired(), Length(max=255)])


class PlatformForm(FlaskForm):
    name = StringField(_l("Name people recognise"), validators=[Length(max=255)])
    issuer = StringField(_l("Issuer"), validators=[InputRequired(), Length(max=1024)])
    client_id = StringField(_l("Client id"), validators=[InputRequired(), Length(max=255)])
    auth_login_url = StringField(_l("Login (OIDC authorization) URL"), validators=[InputRequired(), _http_url])
    auth_token_url = StringField(_l("Token URL"), validators=[InputRequired(), _http_url])
    key_set_url = StringField(_l("Key set (JWKS) URL"), validators=[InputRequired(), _http_url])
    deployment_ids = StringField(_l("Deployment ids, separated by spaces"), validators=[Length(max=4000)])


@bp.get("/c/<int:course_id>/admin/platforms")
def platforms(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.can_administer())
    return _page(membership)


@bp.post("/c/<int:course_id>/admin/keys/rotate")
def rotate(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.can_administer())
    new, _retired = keys.rotate_keys()
    db.session.commit()
    flash(_("A new signing key is active; the previous one stays published for a week."), "success")
    return redirect(url_for(".platforms", course_id=course_id))


# --- the pages --------------------------------------------------------------------------------


def _own(membership) -> Platform:
    return db.session.get(Platform, membership.course.platform_id)


def _deployment(membership, deployment_id: int) -> Deployment:
    return db.session.scalar(sa.select(Deployment).where(
        Deployment.id == deployment_id, Deployment.platform_id == membership.course.platform_id)) or abort(404)


def _page(membership, *, deployment_form=None, platform_form=None, status: int = 200):
    return render_template("lti/admin_platforms.html", course=membership.course, membership=membership,
                           platform=_own(membership), keys=keys.published_keys(),
                           deployment_form=deployment_form or DeploymentForm(),
                           platform_form=platform_form or PlatformForm()), status


@bp.post("/c/<int:course_id>/admin/platforms/deployments")
def deployment_add(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.can_administer())
    form = DeploymentForm()
    if form.validate_on_submit():
        try:
            operations.add_deployment(_own(membership), form.deployment_id.data, actor=membership.user, via="admin")
        except ValueError as error:
            form.deployment_id.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("The deployment is added."), "success")
            return redirect(url_for(".platforms", course_id=course_id))
    db.session.rollback()
    return _page(membership, deployment_form=form, status=422)


@bp.post("/c/<int:course_id>/admin/platforms/deployments/<int:deployment_id>/<any(enable, disable, remove):action>")
def deployment_change(course_id: int, deployment_id: int, action: str):
    membership = load_membership(course_id)
    ensure(membership.can_administer())
    deployment = _deployment(membership, deployment_id)
    if action == "remove":
        operations.remove_deployment(deployment, actor=membership.user, via="admin")
    else:
        operations.set_deployment_enabled(deployment, action == "enable", actor=membership.user, via="admin")
    db.session.commit()
    flash(_("The deployment is changed."), "success")
    return redirect(url_for(".platforms", course_id=course_id))


@bp.post("/c/<int:course_id>/admin/platforms/<any(enable, disable, remove):action>")
def platform_change(course_id: int, action: str):
    """The admin's own platform: disabling it refuses its launches (theirs too)."""
    membership = load_membership(course_id)
    ensure(membership.can_administer())
    platform = _own(membership)
    if action == "remove":
        operations.remove_platform(platform, actor=membership.user, via="admin")
    else:
        operations.set_platform_enabled(platform, action == "enable", actor=membership.user, via="admin")
    db.session.commit()
    flash(_("The platform is changed."), "success")
    return redirect(url_for(".platforms", course_id=course_id))


@bp.post("/c/<int:course_id>/admin/platforms/new")
def platform_add(course_id: int):
    """Register another LMS (or its second client id), as ``flask lti add-platform`` does."""
    membership = load_membership(course_id)
    ensure(membership.can_administer())
    form = PlatformForm()
    if form.validate_on_submit():
        try:
            platform, _added = operations.register_platform(
                issuer=form.issuer.data, client_id=form.client_id.data, auth_login_url=form.auth_login_url.data,
                auth_token_url=form.auth_token_url.data, key_set_url=form.key_set_url.data,
                deployment_ids=[d for d in form.deployment_ids.data.split() if d], name=form.name.data or "",
                actor=membership.user)
        except ValueError as error:
            form.issuer.errors.append(str(error))
        else:
            db.session.commit()
            flash(_("Platform %(issuer)s is registered.", issuer=platform.issuer), "success")
            return redirect(url_for(".platforms", course_id=course_id))
    db.session.rollback()
    return _page(membership, platform_form=form, status=422)
