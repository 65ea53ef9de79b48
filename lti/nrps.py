"""Names and Role Provisioning Services 2.0: the course's roster as the LMS keeps it,
including people who never launched the tool.

A launch's NRPS claim (``https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice``)
gives the ``context_memberships_url``. A GET with the membership container media type
answers one page of members; further pages are announced in a ``Link: <…>; rel="next"``
header. Each member's roles are translated by :mod:`lti.roles`, which knows the full
LIS URIs (Canvas) and the short names (``Learner``, ``Instructor``) Moodle's roster uses;
``status`` Inactive or Deleted makes the member inactive.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa
from flask import current_app

from lti import roles, tokens
from lti.models import Platform, ServiceEndpoint
from portfolio.db import db
from portfolio.lms import DeliveryDeferred, DeliveryRefused, RosterMember
from portfolio.people.models import Course

CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
CONTAINER_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_PAGES = 200  # a bound on a platform that keeps announcing a next page
PAGE_SIZE = 100


def page_size() -> int:
    return int(current_app.config.get("LTI_NRPS_PAGE_SIZE", PAGE_SIZE))


@cache
def _memberships_url() -> sa.Select:
    # Built once: the cohort dashboard asks on every view whether to offer the roster button.
    return (sa.select(ServiceEndpoint.nrps_memberships_url)
            .where(ServiceEndpoint.course_id == sa.bindparam("course_id", type_=sa.Integer),
                   ServiceEndpoint.nrps_memberships_url.is_not(None))
            .order_by(ServiceEndpoint.updated_at.desc(), ServiceEndpoint.id.desc()).limit(1))


def memberships_url(course: Course) -> str | None:
    """The memberships URL of the course's most recent launch that offered one (a plain
    column through the session's connection: no ORM entity to build or flush for)."""
    return db.session.connection().execute(_memberships_url(), {"course_id": course.id}).scalar()


def _text(value) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def to_member(member: dict) -> RosterMember | None:
    """One member of the container; None when it names nobody (no ``user_id``)."""
    sub = _text(member.get("user_id")) if isinstance(member, dict) else None
    if sub is None:
        return None
    name = _text(member.get("name")) or " ".join(
        part for part in (_text(member.get("given_name")), _text(member.get("family_name"))) if part) or None
    raw_roles = member.get("roles")
    status = _text(member.get("status")) or "Active"
    return RosterMember(
        sub=sub,
        name=name,
        email=_text(member.get("email")),
        role=roles.translate(raw_roles if isinstance(raw_roles, list) else []),
        active=status.lower() == "active",
    )


def fetch_roster(course: Course) -> list[RosterMember]:
    """Every member, all pages (each person once, as the last page naming them says)."""
    first = memberships_url(course)
    if first is None:
        raise DeliveryDeferred("No launch of this course has offered the LMS's membership service yet.")
    platform = db.session.get(Platform, course.platform_id)
    members: dict[str, RosterMember] = {}
    url, pages = first, 0
    while url and pages < MAX_PAGES:
        response = tokens.service_request(
            platform, [SCOPE], "GET", url, what="the LMS's membership service",
            params={"limit": page_size()} if pages == 0 and "limit=" not in url else None,
            headers={"Accept": CONTAINER_TYPE})
        try:
            container = response.json()
        except ValueError as error:
            raise DeliveryDeferred("The LMS's membership service sent something that is not JSON.",
                                   status=response.status_code) from error
        listed = container.get("members") if isinstance(container, dict) else None
        for item in listed if isinstance(listed, list) else []:
            member = to_member(item)
            if member is not None:
                members[member.sub] = member
        following = response.links.get("next", {}).get("url")
        url, pages = (urljoin(url, following) if following else None), pages + 1
        if url and urlsplit(url).netloc != urlsplit(first).netloc:
            raise DeliveryRefused("The LMS's membership service sent the next page to another host; "
                                   "the tool does not send its access token there.")
    return list(members.values())
