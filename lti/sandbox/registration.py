"""The tool's registration of the sandbox platforms, as an LMS admin would make it."""

from __future__ import annotations

from lti.operations import register_platform
from lti.sandbox import platform as sandbox
from lti.views import external_url


def ensure_platforms() -> list:
    """Register (or refresh) both sandbox platforms; idempotent."""
    registered = []
    for shape in sandbox.SHAPES:
        platform_row, _ = register_platform(
            issuer=sandbox.issuer(shape),
            client_id=sandbox.CLIENT_IDS[shape],
            auth_login_url=external_url("sandbox.authorize", shape=shape),
            auth_token_url=external_url("sandbox.token", shape=shape),
            key_set_url=external_url("sandbox.jwks", shape=shape),
            deployment_ids=[sandbox.DEPLOYMENT_IDS[shape]],
            name=f"Sandbox LMS ({'Moodle' if shape == 'moodle' else 'Canvas'}-shaped)",
            product_family=shape,
        )
        registered.append(platform_row)
    return registered
