"""The LMS as ``portfolio.lms`` sees it, spoken in LTI Advantage: released grades go out
through the Assignment and Grade Services, rosters come in through the Names and Role
Provisioning Services. The endpoints of both are learned from launches (each launch's
claims are recorded per course and resource link) and called with the tool's access
tokens (:mod:`lti.tokens`)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lti import ags, nrps
from lti.http import UnsafeURL, check_url
from lti.models import ServiceEndpoint
from portfolio.db import db, utcnow
from portfolio.lms import RosterMember, Score
from portfolio.people.models import Course

LTI_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def _url(value) -> str | None:
    if not isinstance(value, str) or len(value) > 2048:
        return None
    try:
        return check_url(value.strip())
    except UnsafeURL:
        return None


def _strings(value) -> list[str] | None:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else None


def record_endpoints(course: Course, claims: dict) -> ServiceEndpoint:
    """Keep what this launch says about the course's services, for its resource link.

    A launch without a claim says the service is off (now) for that link; what the tool
    found or created in the LMS stays remembered unless the line items URL changed.
    """
    link = claims.get(LTI_CLAIM + "resource_link")
    link_id = link.get("id") if isinstance(link, dict) and isinstance(link.get("id"), str) else ""
    link_id = link_id.strip()[:255]
    endpoint_claim = claims.get(ags.CLAIM)
    endpoint_claim = endpoint_claim if isinstance(endpoint_claim, dict) else {}
    roster_claim = claims.get(nrps.CLAIM)
    roster_claim = roster_claim if isinstance(roster_claim, dict) else {}
    values = {
        "ags_scopes": _strings(endpoint_claim.get("scope")),
        "ags_lineitems_url": _url(endpoint_claim.get("lineitems")),
        "ags_lineitem_url": _url(endpoint_claim.get("lineitem")),
        "nrps_memberships_url": _url(roster_claim.get("context_memberships_url")),
        "nrps_versions": _strings(roster_claim.get("service_versions")),
    }

    def existing():
        return db.session.scalar(sa.select(ServiceEndpoint).where(
            ServiceEndpoint.course_id == course.id, ServiceEndpoint.resource_link_id == link_id))

    endpoint = existing()
    if endpoint is None:
        try:
            with db.session.begin_nested():  # two first launches at once: the second updates
                endpoint = ServiceEndpoint(course_id=course.id, resource_link_id=link_id, **values)
                db.session.add(endpoint)
            return endpoint
        except IntegrityError:
            endpoint = existing()
    if endpoint.ags_lineitems_url != values["ags_lineitems_url"]:
        endpoint.found_lineitem_url = None
    for name, value in values.items():
        setattr(endpoint, name, value)
    endpoint.updated_at = utcnow()
    return endpoint


class AdvantageServices:
    """The implementation of :class:`portfolio.lms.LMS` registered by ``lti.init_app``."""

    def grades_supported(self, course: Course) -> bool:
        return ags.grade_endpoint(course) is not None

    def send_score(self, course: Course, score: Score) -> str:
        return ags.send_score(course, score)

    def roster_supported(self, course: Course) -> bool:
        return nrps.memberships_url(course) is not None

    def fetch_roster(self, course: Course) -> list[RosterMember]:
        return nrps.fetch_roster(course)
