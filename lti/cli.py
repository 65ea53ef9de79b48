"""``flask --app portfolio lti …``: register platforms and rotate keys from a shell."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from lti import keys, operations
from lti.http import UnsafeURL
from lti.models import Platform
from portfolio.db import db

lti_cli = AppGroup("lti", help="LTI platform registrations and the tool's keys.")


@lti_cli.command("add-platform")
@click.option("--issuer", required=True, help="The platform's issuer (iss), e.g. https://moodle.example.edu")
@click.option("--client-id", required=True, help="The client id the platform gave this tool.")
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization endpoint.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token endpoint.")
@click.option("--key-set-url", required=True, help="The platform's public key set (JWKS) URL.")
@click.option("--deployment-id", "deployment_ids", multiple=True, help="A deployment id (repeatable).")
@click.option("--name", default="", help="A name for people to recognise the platform.")
def add_platform(issuer, client_id, auth_login_url, auth_token_url, key_set_url, deployment_ids, name):
    """Register a platform, or add deployments to one already registered."""
    try:
        platform, added = operations.register_platform(
            issuer=issuer, client_id=client_id, auth_login_url=auth_login_url,
            auth_token_url=auth_token_url, key_set_url=key_set_url,
            deployment_ids=list(deployment_ids), name=name,
        )
    except (UnsafeURL, ValueError) as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"platform {platform.id}: {platform.issuer} (client id {platform.client_id}); "
               f"deployments: {', '.join(d.deployment_id for d in platform.deployments) or 'none'}"
               + (f" ({len(added)} new)" if added else ""))


@lti_cli.command("list-platforms")
def list_platforms():
    """Every registered platform with its deployments."""
    platforms = db.session.scalars(sa.select(Platform).order_by(Platform.id)).all()
    if not platforms:
        click.echo("no platforms registered")
    for p in platforms:
        state = "" if p.enabled else " [disabled]"
        click.echo(f"{p.id}\t{p.issuer}\tclient_id={p.client_id}{state}")
        click.echo(f"\tlogin: {p.auth_login_url}\n\ttoken: {p.auth_token_url}\n\tkeys:  {p.key_set_url}")
        for d in p.deployments:
            click.echo(f"\tdeployment {d.deployment_id}" + ("" if d.enabled else " [disabled]"))


@lti_cli.command("rotate-keys")
def rotate_keys():
    """Make a new signing key; the old one stays published for the overlap period."""
    new, retired = keys.rotate_keys()
    db.session.commit()
    click.echo(f"active key: {new.kid}")
    for key in retired:
        click.echo(f"retired key {key.kid}: published until {key.published_until.isoformat()}")


@lti_cli.command("services")
def list_services():
    """The grade (AGS) and roster (NRPS) services each course's launches offered."""
    from lti import ags
    from lti.models import ServiceEndpoint
    from portfolio.people.models import Course

    rows = db.session.execute(sa.select(ServiceEndpoint, Course).join(Course, Course.id == ServiceEndpoint.course_id)
                              .order_by(Course.id, ServiceEndpoint.id)).all()
    if not rows:
        click.echo("no launch has offered LTI Advantage services yet")
    for endpoint, course in rows:
        link = endpoint.resource_link_id or "(no resource link)"
        click.echo(f"course {course.id} {course.display_title!r}, resource link {link}")
        click.echo(f"\tgrades: {'yes' if ags.offers_scores(endpoint) else 'no'}; scopes: "
                   f"{' '.join(s.rsplit('/', 1)[-1] for s in endpoint.ags_scopes or []) or 'none'}")
        column = endpoint.ags_lineitem_url or endpoint.found_lineitem_url
        click.echo(f"\tline items: {endpoint.ags_lineitems_url or '-'}\n\tcolumn: {column or '(found or created at the first score)'}")
        click.echo(f"\troster: {endpoint.nrps_memberships_url or '-'}")


def _platform(platform_id: int) -> Platform:
    platform = db.session.get(Platform, platform_id)
    if platform is None:
        raise click.ClickException(f"no platform {platform_id}")
    return platform


def _deployment(platform_id: int, deployment_id: str):
    from lti.models import Deployment

    found = db.session.scalar(sa.select(Deployment).where(Deployment.platform_id == platform_id,
                                                          Deployment.deployment_id == deployment_id))
    if found is None:
        raise click.ClickException(f"platform {platform_id} has no deployment {deployment_id!r}")
    return found


def _change(function, *args, **kwargs) -> None:
    from portfolio.errors import DomainError

    try:
        function(*args, **kwargs)
    except DomainError as error:
        raise click.ClickException(str(error.description)) from error
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()


@lti_cli.command("disable-platform")
@click.argument("platform_id", type=int)
def disable_platform(platform_id):
    """Refuse the platform's launches; its courses and data stay."""
    from lti.operations import set_platform_enabled

    _change(set_platform_enabled, _platform(platform_id), False)
    click.echo(f"platform {platform_id} disabled")


@lti_cli.command("enable-platform")
@click.argument("platform_id", type=int)
def enable_platform(platform_id):
    from lti.operations import set_platform_enabled

    _change(set_platform_enabled, _platform(platform_id), True)
    click.echo(f"platform {platform_id} enabled")


@lti_cli.command("remove-platform")
@click.argument("platform_id", type=int)
def remove_platform(platform_id):
    """Remove a registration no course came from."""
    from lti.operations import remove_platform as remove

    _change(remove, _platform(platform_id))
    click.echo(f"platform {platform_id} removed")


@lti_cli.command("add-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
def add_deployment(platform_id, deployment_id):
    from lti.operations import add_deployment as add

    _change(add, _platform(platform_id), deployment_id)
    click.echo(f"platform {platform_id}: deployment {deployment_id} added")


@lti_cli.command("disable-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
def disable_deployment(platform_id, deployment_id):
    from lti.operations import set_deployment_enabled

    _change(set_deployment_enabled, _deployment(platform_id, deployment_id), False)
    click.echo(f"platform {platform_id}: deployment {deployment_id} disabled")


@lti_cli.command("enable-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
def enable_deployment(platform_id, deployment_id):
    from lti.operations import set_deployment_enabled

    _change(set_deployment_enabled, _deployment(platform_id, deployment_id), True)
    click.echo(f"platform {platform_id}: deployment {deployment_id} enabled")


@lti_cli.command("remove-deployment")
@click.argument("platform_id", type=int)
@click.argument("deployment_id")
def remove_deployment(platform_id, deployment_id):
    """Remove a deployment no course came through."""
    from lti.operations import remove_deployment as remove

    _change(remove, _deployment(platform_id, deployment_id))
    click.echo(f"platform {platform_id}: deployment {deployment_id} removed")


@lti_cli.command("list-keys")
def list_keys():
    """The tool's published keys: the active one and retired ones still in the key set."""
    for key in keys.published_keys():
        state = (f"retired, published until {key.published_until.isoformat()}" if key.retired_at else "active")
        click.echo(f"{key.kid}\tcreated {key.created_at.isoformat()}\t{state}")
