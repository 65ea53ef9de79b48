"""What the sandbox LMS remembers of the tool's set-up messages: the tools registered
with it by LTI Dynamic Registration (each with its one-time registration token), and
the resource links the tool returned by Deep Linking.

A real LMS keeps the same two things: the registration becomes a tool the admin can
activate, and each deep-linked content item becomes an activity in the course, with a
gradebook column when the item carries a ``lineItem``."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portfolio.db import Base, intpk, timestamp


class SandboxToolRegistration(Base):
    """A registration started from the sandbox's "register a tool by URL" page.

    The token is single-use: it opens the openid-configuration (the Canvas shape asks
    for it) and the registration endpoint until the tool has registered or it expires.
    Only its hash is stored."""

    __tablename__ = "sandbox_tool_registration"

    id: Mapped[intpk]
    shape: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    token_expires_at: Mapped[datetime]
    client_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    deployment_id: Mapped[str | None] = mapped_column(sa.String(255))
    client_name: Mapped[str] = mapped_column(sa.String(255), default="")
    # The tool's client registration request, as received.
    configuration: Mapped[dict | None] = mapped_column(sa.JSON)
    created_at: Mapped[timestamp]
    registered_at: Mapped[datetime | None]

    @property
    def redirect_uris(self) -> list[str]:
        uris = (self.configuration or {}).get("redirect_uris")
        return [u for u in uris if isinstance(u, str)] if isinstance(uris, list) else []


class SandboxResourceLink(Base):
    """One content item of a verified deep-linking response. ``nonce`` and ``position``
    are unique together, so a replayed response is refused."""

    __tablename__ = "sandbox_resource_link"
    __table_args__ = (sa.UniqueConstraint("nonce", "position"),)

    id: Mapped[intpk]
    shape: Mapped[str] = mapped_column(sa.String(16))
    client_id: Mapped[str] = mapped_column(sa.String(255))
    deployment_id: Mapped[str] = mapped_column(sa.String(255))
    nonce: Mapped[str] = mapped_column(sa.String(255))
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(sa.String(255), default="")
    text: Mapped[str] = mapped_column(sa.Text, default="")
    url: Mapped[str | None] = mapped_column(sa.String(2048))
    line_item: Mapped[dict | None] = mapped_column(sa.JSON)
    content_item: Mapped[dict] = mapped_column(sa.JSON)
    created_at: Mapped[timestamp]
