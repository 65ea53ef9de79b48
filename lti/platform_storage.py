"""LTI platform storage (1EdTech "LTI Client Side postMessages", as Canvas offers it): a
second way to bind a launch to the browser that started the login, for browsers that
block the tool's cookies inside the LMS frame.

When the login initiation names an ``lti_storage_target`` (the LMS frame that answers
``lti.put_data`` / ``lti.get_data``), the login page stores a value under
``state_<state>`` in the LMS page before going on to the platform's authorization
endpoint. The value is derived from the login's state and nonce with the app's secret
key, so only we can make it and only this login's browser holds it.

At the launch, when our state cookie did not come back but the login used platform
storage, the launch is fully validated (state and nonce spent) and then kept here as a
pending launch, under a short-lived single-use id; the page asks the LMS frame for the
stored value and posts it back. Only when it matches is the launch accepted. The audit
trail says which binding carried each launch: ``cookie``, ``platform-storage`` or
``none`` (no binding survived: cookies blocked and no platform storage).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Mapped, mapped_column

from lti.models import Deployment, LoginState, Platform
from portfolio.db import Base, intpk, timestamp, utcnow

# A pending launch waits only for the page's round trip to the LMS frame.
PENDING_TTL = 120
# The cookie the storage check page sets: if it comes back with the value, the browser
# keeps our cookies in the frame (partitioned) and the person can stay in it.
PROBE_COOKIE = "lti-probe"
MAX_TARGET = 255


class PendingLaunch(Base):
    """A validated launch waiting for the platform-storage check. Only the hash of its
    id is stored; it is spent by the first check, matching or not."""

    __tablename__ = "lti_pending_launch"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    login_state_id: Mapped[int] = mapped_column(sa.ForeignKey("lti_login_state.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[int] = mapped_column(sa.ForeignKey("deployment.id", ondelete="CASCADE"))
    claims: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[timestamp]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]


def storage_target(params: dict) -> str | None:
    """The frame the login initiation names for platform storage: ``_parent`` or a
    frame name of the LMS page (Canvas: ``post_message_forwarding``)."""
    target = (params.get("lti_storage_target") or "").strip()
    if not target or len(target) > MAX_TARGET:
        return None
    return target


def storage_key(state: str) -> str:
    return "state_" + state


def storage_value(login: LoginState) -> str:
    """What the login page stores: bound to this login's state and nonce, unforgeable
    without the secret key, and never sent to the platform's authorization endpoint."""
    message = f"lti-platform-storage:{login.state_hash}:{login.nonce}".encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), message, hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def keep_pending(session, message) -> str:
    """Keep a validated launch until its platform-storage check; return its id."""
    now = utcnow()
    session.execute(sa.delete(PendingLaunch).where(PendingLaunch.expires_at < now))
    token = secrets.token_urlsafe(32)
    session.add(PendingLaunch(
        token_hash=token_hash(token), login_state_id=message.login.id, platform_id=message.platform.id,
        deployment_id=message.deployment.id, claims=message.claims,
        expires_at=now + timedelta(seconds=PENDING_TTL),
    ))
    return token


def claim_pending(session, token: str) -> PendingLaunch | None:
    """Spend a pending launch: the first check wins, whatever its outcome."""
    if not token or len(token) > 200:
        return None
    claimed = session.execute(
        sa.update(PendingLaunch)
        .where(PendingLaunch.token_hash == token_hash(token), PendingLaunch.used_at.is_(None),
               PendingLaunch.expires_at > utcnow())
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        return None
    return session.scalar(sa.select(PendingLaunch).where(PendingLaunch.token_hash == token_hash(token)))


@dataclass
class VerifiedLaunch:
    """A pending launch whose binding checked out: what provisioning reads of a launch."""

    claims: dict
    platform: Platform
    deployment: Deployment
    login: LoginState


def matches(login: LoginState, value: str) -> bool:
    return bool(value) and secrets.compare_digest(value.encode(), storage_value(login).encode())
