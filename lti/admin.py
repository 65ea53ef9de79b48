"""Administration of the LTI side for a platform's admins: their registration, its
deployments and the tool's published keys."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from lti import keys
from lti.models import Platform
from portfolio.db import db
from portfolio.errors import ensure
from portfolio.people.access import load_membership

bp = Blueprint("lti_admin", __name__)


@bp.get("/c/<int:course_id>/admin/platforms")
def platforms(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.can_administer())
    platform = db.session.get(Platform, membership.course.platform_id)
    return render_template("lti/admin_platforms.html", course=membership.course, membership=membership,
                           platform=platform, keys=keys.published_keys())


@bp.post("/c/<int:course_id>/admin/keys/rotate")
def rotate(course_id: int):
    membership = load_membership(course_id)
    ensure(membership.can_administer())
    new, _retired = keys.rotate_keys()
    db.session.commit()
    flash(_("A new signing key is active; the previous one stays published for a week."), "success")
    return redirect(url_for(".platforms", course_id=course_id))
