"""A real LTI 1.3 platform inside the app, for the demo and the tests: keys, key set,
OIDC authorization endpoint, token endpoint and a demo course. It exists only when
``PORTFOLIO_SANDBOX=1``; production refuses to start with it on."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from lti.sandbox.cli import demo_cli

    app.cli.add_command(demo_cli)
    if not app.config["SANDBOX"]:
        return
    from lti.sandbox.views import bp
    from portfolio.extensions import csrf

    csrf.exempt(bp)  # a platform's endpoints, called by the tool and by the sandbox's own pages
    app.register_blueprint(bp)
    from lti.sandbox.dynamic import bp as dynamic_bp

    csrf.exempt(dynamic_bp)  # the same: registration and deep-linking endpoints of a platform
    app.register_blueprint(dynamic_bp)
    from lti.sandbox.mailbox import bp as mailbox_bp

    app.register_blueprint(mailbox_bp)
    from lti.sandbox.services import bp as services_bp

    csrf.exempt(services_bp)  # the platform's service endpoints, called by the tool with a Bearer token
    app.register_blueprint(services_bp)
