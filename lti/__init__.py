"""Everything LTI 1.3: the OIDC login and message launch hardened beyond pylti1p3,
platform registrations and deployments, the tool's keys, the translation of LTI roles
into the product's roles, and the sandbox LMS that makes the demo and the tests real.

The application (``portfolio``) never imports this package; ``create_app`` calls
``init_app`` and that is the whole coupling.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lti import models  # noqa: F401  (tables for the metadata)
    from lti.sandbox import models as sandbox_models  # noqa: F401  (tables exist with the sandbox off too)
    from lti.services import AdvantageServices
    from portfolio import lms
    from lti.sandbox import links  # noqa: F401  (the sandbox's tables exist even with it off)
    from lti.admin import bp as admin_bp
    from lti.cli import lti_cli
    from lti.views import bp
    from portfolio.extensions import csrf

    # The platform posts these cross-site; they carry their own proof (state, id_token, ticket).
    csrf.exempt("lti.views.login")
    csrf.exempt("lti.views.launch")
    csrf.exempt("lti.views.continue_in_window")
    csrf.exempt("lti.views.verify_launch")  # its proof: a single-use pending launch id and the stored value
    csrf.exempt("lti.views.login_without_storage")  # its proof: the login's state, which only that page holds
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    from lti.registration_views import bp as setup_bp

    app.register_blueprint(setup_bp)
    app.cli.add_command(lti_cli)
    lms.register(app, AdvantageServices())

    from lti.sandbox import init_app as init_sandbox

    init_sandbox(app)
