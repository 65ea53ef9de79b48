"""The privacy pages: the notice and the person's own data (for everyone), and an admin's
answers to access and erasure requests for the people of their platform."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portfolio.db import db, utcnow
from portfolio.errors import ensure
from portfolio.people.access import load_membership
from portfolio.people.models import Course, Membership, User
from portfolio.privacy import operations, queries
from portfolio.privacy.forms import EraseForm
from portfolio.privacy.models import NOTICE_VERSION, PrivacyAcknowledgement

bp = Blueprint("privacy", __name__)


@bp.app_context_processor
def notice_banner():
    """Templates show the notice banner while ``privacy_notice_due`` is true."""

    def due() -> bool:
        if "privacy_notice_due" not in g:
            membership = g.get("membership")
            g.privacy_notice_due = bool(current_user.is_authenticated and membership is not None
                                        and membership.user_id == current_user.id
                                        and operations.notice_due(current_user, membership))
        return g.privacy_notice_due

    return {"privacy_notice_due": due, "privacy_notice_version": NOTICE_VERSION}


def _safe_next(default: str) -> str:
    """Only a path of this site: never another host an attacker put in ``next``."""
    target = request.values.get("next") or ""
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc or "\\" in target:
        return default
    return target


def _acknowledgements(user_id: int) -> list[PrivacyAcknowledgement]:
    return list(db.session.scalars(db.select(PrivacyAcknowledgement).where(
        PrivacyAcknowledgement.user_id == user_id).order_by(PrivacyAcknowledgement.acknowledged_at.desc())))


def _page(course: Course | None, membership: Membership | None):
    acknowledged = _acknowledgements(current_user.id) if current_user.is_authenticated else []
    return render_template("privacy/notice_show.html", course=course, membership=membership,
                           acknowledged=acknowledged, version=NOTICE_VERSION,
                           current=any(a.version == NOTICE_VERSION for a in acknowledged),
                           next=_safe_next(""))


@bp.get("/privacy")
def notice():
    """The notice for anyone; for a signed-in person also what they acknowledged and their data."""
    return _page(None, None)


@bp.get("/c/<int:course_id>/privacy")
def page(course_id: int):
    membership = load_membership(course_id)
    return _page(membership.course, membership)


@bp.post("/privacy/acknowledge")
def acknowledge():
    if not current_user.is_authenticated:
        abort(401)
    membership = None
    course_id = request.form.get("course_id", type=int)
    if course_id:
        membership = load_membership(course_id)
    operations.acknowledge_notice(current_user, membership)
    db.session.commit()
    flash(_("Thank you. Your acknowledgement of the privacy notice is recorded."), "success")
    default = url_for("people.home", course_id=course_id) if course_id else url_for(".notice")
    return redirect(_safe_next(default))


def _zip_response(data: bytes, user: User) -> Response:
    name = f"personal-data-{user.id}-{utcnow():%Y%m%d}.zip"
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})


@bp.post("/privacy/export")
def export_mine():
    """The person downloads everything the tool holds about them."""
    if not current_user.is_authenticated:
        abort(401)
    data = operations.export_person(current_user, via="web")
    db.session.commit()
    return _zip_response(data, current_user)


# --- an admin answers requests ------------------------------------------------------------------


def _admin(course_id: int) -> Membership:
    membership = load_membership(course_id)
    ensure(operations.is_platform_admin(membership))
    return membership


def _person(membership: Membership, user_id: int) -> User:
    """A person of the admin's platform, else 404."""
    return db.session.scalar(queries.person_in_platform(membership.course.platform_id, user_id)) or abort(404)


@bp.get("/c/<int:course_id>/admin/people")
def people(course_id: int):
    membership = _admin(course_id)
    q = (request.args.get("q") or "").strip()[:100]
    found = list(db.session.scalars(queries.people_of_platform(membership.course.platform_id, q).limit(200)))
    return render_template("privacy/people_list.html", course=membership.course, membership=membership,
                           people=found, q=q)


@bp.get("/c/<int:course_id>/admin/people/<int:user_id>")
def person(course_id: int, user_id: int):
    membership = _admin(course_id)
    return _person_page(membership, _person(membership, user_id), EraseForm(person_id=user_id))


def _person_page(membership: Membership, user: User, form: EraseForm, status: int = 200):
    memberships = list(db.session.scalars(db.select(Membership).join(Course, Course.id == Membership.course_id).where(
        Membership.user_id == user.id, Course.platform_id == membership.course.platform_id).order_by(Course.title)))
    return render_template("privacy/person_show.html", course=membership.course, membership=membership,
                           person=user, memberships=memberships, form=form,
                           acknowledged=_acknowledgements(user.id),
                           erased=(user.lti_sub or "").startswith("erased-")), status


@bp.post("/c/<int:course_id>/admin/people/<int:user_id>/export")
def export_person(course_id: int, user_id: int):
    membership = _admin(course_id)
    user = _person(membership, user_id)
    data = operations.export_person(user, by=membership, via="admin")
    db.session.commit()
    return _zip_response(data, user)


@bp.post("/c/<int:course_id>/admin/people/<int:user_id>/erase")
def erase_person(course_id: int, user_id: int):
    membership = _admin(course_id)
    user = _person(membership, user_id)
    ensure(operations.can_erase_person(membership, user))
    form = EraseForm(person_id=user_id)
    if not form.validate_on_submit():
        return _person_page(membership, user, form, 422)
    operations.erase_person(user, by=membership, via="admin")
    db.session.commit()
    flash(_("The person's data is erased; what others need stays under the name %(name)s.",
            name=operations.pseudonym(user_id)), "success")
    return redirect(url_for(".person", course_id=course_id, user_id=user_id))
