"""Platform registrations as pylti1p3 sees them, read from the database.

pylti1p3 finds registrations through a ``ToolConf``; ours answers from the ``platform``
and ``deployment`` tables, several platforms with several deployments each, and hands
pylti1p3 the tool's active key for the messages it signs (deep linking, service tokens).
"""

from __future__ import annotations

import sqlalchemy as sa
from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract

from lti import keys
from lti.models import Deployment, Platform
from portfolio.db import db


def find_platform(issuer: str, client_id: str | None) -> Platform | None:
    """The enabled registration for (issuer, client_id); without a client id only when
    the issuer has exactly one registration (platforms may omit it at login)."""
    stmt = sa.select(Platform).where(Platform.issuer == issuer, Platform.enabled.is_(True))
    if client_id:
        return db.session.scalar(stmt.where(Platform.client_id == client_id))
    found = db.session.scalars(stmt.limit(2)).all()
    return found[0] if len(found) == 1 else None


def find_deployment(platform: Platform, deployment_id: str) -> Deployment | None:
    return db.session.scalar(
        sa.select(Deployment).where(
            Deployment.platform_id == platform.id,
            Deployment.deployment_id == deployment_id,
            Deployment.enabled.is_(True),
        )
    )


def to_registration(platform: Platform) -> Registration:
    key = keys.active_key()
    registration = (
        Registration()
        .set_issuer(platform.issuer)
        .set_client_id(platform.client_id)
        .set_auth_login_url(platform.auth_login_url)
        .set_auth_token_url(platform.auth_token_url)
        .set_key_set_url(platform.key_set_url)
        .set_key_set(platform.key_set)
        .set_tool_private_key(key.private_key_pem)
        .set_tool_public_key(keys.public_pem(key.private_key_pem))
    )
    if platform.auth_audience:
        registration.set_auth_audience(platform.auth_audience)
    return registration


class DatabaseToolConf(ToolConfAbstract):
    def __init__(self):
        super().__init__()
        self.issuers_relation_types = {}

    def check_iss_has_one_client(self, iss: str) -> bool:
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss, *args, **kwargs):
        platform = find_platform(iss, None)
        return to_registration(platform) if platform else None

    def find_registration_by_params(self, iss, client_id, *args, **kwargs):
        platform = find_platform(iss, client_id)
        return to_registration(platform) if platform else None

    def find_deployment(self, iss, deployment_id):
        platform = find_platform(iss, None)
        return self._deployment(platform, deployment_id)

    def find_deployment_by_params(self, iss, deployment_id, client_id, *args, **kwargs):
        return self._deployment(find_platform(iss, client_id), deployment_id)

    @staticmethod
    def _deployment(platform, deployment_id):
        if platform is None or find_deployment(platform, deployment_id) is None:
            return None
        return LtiDeployment().set_deployment_id(deployment_id)
