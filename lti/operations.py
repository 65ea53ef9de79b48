"""State changes of the LTI registrations, shared by ``flask lti …`` and the admin pages.
They flush and audit; the caller commits."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from lti.http import check_url
from lti.launch import MAX_DEPLOYMENT_ID
from lti.models import Deployment, Platform
from portfolio.audit.operations import record_event
from portfolio.db import db
from portfolio.errors import InvalidTransition
from portfolio.people.models import Course, User


def register_platform(
    *, issuer: str, client_id: str, auth_login_url: str, auth_token_url: str, key_set_url: str,
    deployment_ids: list[str], name: str = "", product_family: str | None = None, actor=None,
    via: str | None = None,
) -> tuple[Platform, list[Deployment]]:
    """Create or update the registration for (issuer, client_id) and add deployments.

    Every URL must be http(s); deployment ids are at most 255 characters.
    """
    issuer, client_id = issuer.strip(), client_id.strip()
    if not issuer or not client_id:
        raise ValueError("issuer and client id are required")
    for label, url in (("login URL", auth_login_url), ("token URL", auth_token_url), ("key set URL", key_set_url)):
        try:
            check_url(url)
        except ValueError as error:
            raise ValueError(f"the {label} must be an http(s) URL: {url!r}") from error
    for deployment_id in deployment_ids:
        if not deployment_id or len(deployment_id) > MAX_DEPLOYMENT_ID:
            raise ValueError("a deployment id must have 1 to 255 characters")

    platform = db.session.scalar(sa.select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id))
    if platform is None:
        platform = Platform(issuer=issuer, client_id=client_id)
        db.session.add(platform)
    platform.auth_login_url = auth_login_url
    platform.auth_token_url = auth_token_url
    if platform.key_set_url != key_set_url:
        platform.key_set, platform.key_set_fetched_at = None, None
    platform.key_set_url = key_set_url
    platform.name = name or platform.name or ""
    platform.product_family = product_family or platform.product_family
    db.session.flush()

    known = {d.deployment_id for d in platform.deployments}
    added = []
    for deployment_id in dict.fromkeys(deployment_ids):
        if deployment_id not in known:
            deployment = Deployment(platform=platform, deployment_id=deployment_id)
            db.session.add(deployment)
            added.append(deployment)
    db.session.flush()
    record_event("platform.registered", actor=actor, subject=platform, via=via or ("cli" if actor is None else "admin"),
                 issuer=issuer, client_id=client_id, deployments=[d.deployment_id for d in added])
    return platform, added




def _courses_using(*, platform_id: int | None = None, deployment_id: int | None = None) -> int:
    stmt = sa.select(sa.func.count(Course.id))
    if platform_id is not None:
        stmt = stmt.where(Course.platform_id == platform_id)
    if deployment_id is not None:
        stmt = stmt.where(Course.deployment_id == deployment_id)
    return db.session.scalar(stmt)


def set_platform_enabled(platform: Platform, enabled: bool, *, actor=None, via: str = "cli") -> None:
    """A disabled platform's launches are refused; its courses and data stay."""
    platform.enabled = enabled
    db.session.flush()
    record_event("platform.enabled" if enabled else "platform.disabled", actor=actor, subject=platform, via=via,
                 issuer=platform.issuer, client_id=platform.client_id)


def remove_platform(platform: Platform, *, actor=None, via: str = "cli") -> None:
    """Only a platform no course came from goes: removing it would take its courses along."""
    used = _courses_using(platform_id=platform.id)
    if used:
        raise InvalidTransition(_("%(count)s courses came from this platform: disable it instead.", count=used))
    # Its people would go with it, and the audit trail names them.
    if db.session.scalar(sa.select(sa.func.count(User.id)).where(User.platform_id == platform.id)):
        raise InvalidTransition(_("People came from this platform: disable it instead."))
    record_event("platform.removed", actor=actor, via=via, issuer=platform.issuer, client_id=platform.client_id)
    db.session.delete(platform)
    db.session.flush()


def add_deployment(platform: Platform, deployment_id: str, *, actor=None, via: str = "cli") -> Deployment:
    deployment_id = (deployment_id or "").strip()
    if not deployment_id or len(deployment_id) > 255:
        raise ValueError(_("A deployment id has 1 to 255 characters."))
    if any(d.deployment_id == deployment_id for d in platform.deployments):
        raise ValueError(_("This deployment is registered already."))
    deployment = Deployment(platform=platform, deployment_id=deployment_id)
    db.session.add(deployment)
    db.session.flush()
    record_event("deployment.added", actor=actor, subject=deployment, via=via, issuer=platform.issuer,
                 deployment=deployment_id)
    return deployment


def set_deployment_enabled(deployment: Deployment, enabled: bool, *, actor=None, via: str = "cli") -> None:
    deployment.enabled = enabled
    db.session.flush()
    record_event("deployment.enabled" if enabled else "deployment.disabled", actor=actor, subject=deployment,
                 via=via, deployment=deployment.deployment_id)


def remove_deployment(deployment: Deployment, *, actor=None, via: str = "cli") -> None:
    used = _courses_using(deployment_id=deployment.id)
    if used:
        raise InvalidTransition(_("%(count)s courses came through this deployment: disable it instead.", count=used))
    record_event("deployment.removed", actor=actor, via=via, deployment=deployment.deployment_id,
                 platform_id=deployment.platform_id)
    db.session.delete(deployment)
    db.session.flush()
