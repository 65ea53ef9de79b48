"""The tool's own RSA keys: generated on first use, published at ``/lti/jwks``, rotated
with an overlap so that platforms caching our key set keep verifying our messages."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import current_app
from jwcrypto.jwk import JWK
from jwt.algorithms import RSAAlgorithm

from lti.models import ToolKey
from portfolio.db import db, utcnow


def generate_rsa_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_jwk(private_pem: str, kid: str) -> dict:
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    jwk.update(kid=kid, alg="RS256", use="sig")
    return jwk


def key_id(private_pem: str) -> str:
    """The RFC 7638 thumbprint, which is also the ``kid`` pylti1p3 signs with."""
    return JWK.from_pem(private_pem.encode()).thumbprint()


def public_pem(private_pem: str) -> str:
    private_key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _new_key() -> ToolKey:
    pem = generate_rsa_pem()
    kid = key_id(pem)
    key = ToolKey(kid=kid, private_key_pem=pem, public_jwk=public_jwk(pem, kid))
    db.session.add(key)
    db.session.flush()
    return key


def active_key() -> ToolKey:
    """The key we sign with, created the first time it is needed."""
    key = db.session.scalar(
        sa.select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.created_at.desc()).limit(1)
    )
    return key or _new_key()


def rotate_keys() -> tuple[ToolKey, list[ToolKey]]:
    """Retire the active key (still published for the overlap period) and make a new one."""
    now = utcnow()
    overlap = timedelta(seconds=current_app.config["LTI_KEY_OVERLAP"])
    retired = db.session.scalars(sa.select(ToolKey).where(ToolKey.retired_at.is_(None))).all()
    for key in retired:
        key.retired_at = now
        key.published_until = now + overlap
    return _new_key(), list(retired)


def published_keys() -> list[ToolKey]:
    now = utcnow()
    keys = db.session.scalars(
        sa.select(ToolKey)
        .where(sa.or_(ToolKey.retired_at.is_(None), ToolKey.published_until > now))
        .order_by(ToolKey.created_at.desc())
    ).all()
    return list(keys)


def jwks() -> dict:
    return {"keys": [key.public_jwk for key in published_keys()]}
