"""State changes of the LTI registrations. They flush; the caller commits."""

from __future__ import annotations

import sqlalchemy as sa

from lti.http import check_url
from lti.launch import MAX_DEPLOYMENT_ID
from lti.models import Deployment, Platform
from portfolio.audit.operations import record_event
from portfolio.db import db


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
