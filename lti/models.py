"""One model per LTI concept: a platform registration (issuer + client id), its
deployments, the tool's own signing keys, and the short-lived records that make a
launch single-use across browsers and processes (login state, used nonces, tickets)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portfolio.db import Base, intpk, str255, timestamp, utcnow


class Platform(Base):
    """An LMS registration: the spec's (issuer, client_id) pair and its endpoints."""

    __tablename__ = "platform"
    __table_args__ = (sa.UniqueConstraint("issuer", "client_id"),)

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    issuer: Mapped[str] = mapped_column(sa.String(1024))
    client_id: Mapped[str255]
    auth_login_url: Mapped[str] = mapped_column(sa.String(1024))
    auth_token_url: Mapped[str] = mapped_column(sa.String(1024))
    auth_audience: Mapped[str | None] = mapped_column(sa.String(1024))
    key_set_url: Mapped[str] = mapped_column(sa.String(1024))
    # The platform's key set as last fetched, and when: the cache of DESIGN.md.
    key_set: Mapped[dict | None] = mapped_column(sa.JSON)
    key_set_fetched_at: Mapped[datetime | None]
    key_set_refetched_at: Mapped[datetime | None]
    product_family: Mapped[str | None] = mapped_column(sa.String(64))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[timestamp]

    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Deployment.id"
    )

    @property
    def display_name(self) -> str:
        return self.name or self.issuer


class Deployment(Base):
    __tablename__ = "deployment"
    __table_args__ = (sa.UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[intpk]
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str255]
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[timestamp]

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(Base):
    """The tool's RSA key pair. One is active; retired keys stay published until
    ``published_until`` so platforms holding a cached key set keep verifying us."""

    __tablename__ = "tool_key"

    id: Mapped[intpk]
    kid: Mapped[str] = mapped_column(sa.String(64), unique=True)
    private_key_pem: Mapped[str] = mapped_column(sa.Text)
    public_jwk: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[timestamp]
    retired_at: Mapped[datetime | None]
    published_until: Mapped[datetime | None]


class LoginState(Base):
    """An OIDC login initiation, waiting for its launch. Stored by the hash of ``state``."""

    __tablename__ = "lti_login_state"

    id: Mapped[intpk]
    state_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    nonce: Mapped[str] = mapped_column(sa.String(128))
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platform.id", ondelete="CASCADE"))
    target_link_uri: Mapped[str] = mapped_column(sa.String(2048))
    created_at: Mapped[timestamp]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
    # The platform's frame holding our state (LTI platform storage), when the login
    # stored it there; a launch without our state cookie is then checked against it.
    storage_target: Mapped[str | None] = mapped_column(sa.String(255))


class UsedNonce(Base):
    """A nonce seen in a valid token; the unique constraint makes replays fail everywhere."""

    __tablename__ = "lti_used_nonce"
    __table_args__ = (sa.UniqueConstraint("platform_id", "nonce"),)

    id: Mapped[intpk]
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platform.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(sa.String(255))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LaunchTicket(Base):
    """A validated launch whose browser blocked our cookies: redeemable once, in a new
    window, within a few minutes. Only the hash of the ticket is stored."""

    __tablename__ = "lti_launch_ticket"

    id: Mapped[intpk]
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    target: Mapped[str] = mapped_column(sa.String(2048))
    locale: Mapped[str | None] = mapped_column(sa.String(35))
    created_at: Mapped[timestamp]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class ServiceEndpoint(Base):
    """The LTI Advantage services a course's launches offered, per resource link: the
    AGS claim (scopes, the line items URL, the link's own line item when the platform
    made one) and the NRPS claim (the context memberships URL). Refreshed at each
    launch; the line item the tool found or created for the link is remembered here."""

    __tablename__ = "lti_service_endpoint"
    __table_args__ = (sa.UniqueConstraint("course_id", "resource_link_id"),)

    id: Mapped[intpk]
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("course.id", ondelete="CASCADE"))
    resource_link_id: Mapped[str] = mapped_column(sa.String(255), default="")  # "" for launches without a link
    ags_scopes: Mapped[list | None] = mapped_column(sa.JSON)
    ags_lineitems_url: Mapped[str | None] = mapped_column(sa.String(2048))
    ags_lineitem_url: Mapped[str | None] = mapped_column(sa.String(2048))
    found_lineitem_url: Mapped[str | None] = mapped_column(sa.String(2048))
    nrps_memberships_url: Mapped[str | None] = mapped_column(sa.String(2048))
    nrps_versions: Mapped[list | None] = mapped_column(sa.JSON)
    created_at: Mapped[timestamp]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccessToken(Base):
    """An OAuth 2 access token for a platform's services, shared by every process until
    shortly before it expires. Keyed by the space-joined, sorted scopes it grants."""

    __tablename__ = "lti_access_token"
    __table_args__ = (sa.UniqueConstraint("platform_id", "scopes"),)

    id: Mapped[intpk]
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platform.id", ondelete="CASCADE"))
    scopes: Mapped[str] = mapped_column(sa.String(1024))
    token: Mapped[str] = mapped_column(sa.Text)
    expires_at: Mapped[datetime]
    created_at: Mapped[timestamp]
