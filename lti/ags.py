"""Assignment and Grade Services 2.0: the portfolio's grade column in the LMS gradebook
and the scores posted to it.

A launch's AGS claim (``https://purl.imsglobal.org/spec/lti-ags/claim/endpoint``) names
the scopes the platform grants, the context's line items URL and, when the platform
made a column for the resource link, that line item's URL. The grade column is:

1. the ``lineitem`` of the claim, when present (Moodle makes one per activity);
2. else the line item of the resource link carrying our ``resourceId``/``tag``, found by
   ``GET lineitems?resource_link_id=…`` (Canvas without an assignment);
3. else one the tool creates with ``POST lineitems`` (needs the ``lineitem`` scope).

Its URL is remembered. A score goes to ``<lineitem>/scores`` (the path, before any query
string) as ``application/vnd.ims.lis.v1.score+json``, addressed by the intern's LTI
``sub``. The timestamp carries microseconds and only increases, so the platform keeps
the newest score and ignores a resend of an older or the same one.
"""

from __future__ import annotations

from datetime import timezone
from urllib.parse import urljoin, urlsplit, urlunsplit

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from lti import tokens
from lti.models import Platform, ServiceEndpoint
from portfolio.db import db, utcnow
from portfolio.lms import DeliveryDeferred, DeliveryRefused, Score
from portfolio.people.models import Course, User

CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM = SCOPE + "lineitem"
SCOPE_LINEITEM_READONLY = SCOPE + "lineitem.readonly"
SCOPE_RESULT_READONLY = SCOPE + "result.readonly"
SCOPE_SCORE = SCOPE + "score"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"

LABEL = "Internship portfolio"
RESOURCE_ID = "portfolio"
TAG = "portfolio-grade"
MAX_PAGES = 20  # line item pages read while looking for ours


def offers_scores(endpoint: ServiceEndpoint) -> bool:
    return SCOPE_SCORE in (endpoint.ags_scopes or []) and bool(
        endpoint.ags_lineitem_url or endpoint.ags_lineitems_url)


def grade_endpoint(course: Course) -> ServiceEndpoint | None:
    """The resource link whose column gets the course's grades: of those whose launches
    offered the score scope, the first that has a line item already, else the first."""
    rows = [r for r in db.session.scalars(
        sa.select(ServiceEndpoint).where(ServiceEndpoint.course_id == course.id).order_by(ServiceEndpoint.id))
        if offers_scores(r)]
    return next((r for r in rows if r.ags_lineitem_url or r.found_lineitem_url), rows[0] if rows else None)


def scopes_for(endpoint: ServiceEndpoint) -> list[str]:
    """The scopes asked for: score, and the line item scopes the platform offers (one
    token serves finding, creating and scoring)."""
    offered = set(endpoint.ags_scopes or [])
    return sorted(offered & {SCOPE_SCORE, SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY})


def scores_url(lineitem_url: str) -> str:
    """``<lineitem>/scores``: the segment goes on the path, before any query string."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def timestamp_text(score: Score) -> str:
    """ISO 8601 with microseconds and an offset, as the spec asks (sub-second precision)."""
    return score.timestamp.astimezone(timezone.utc).isoformat(timespec="microseconds")


def score_body(sub: str, score: Score) -> dict:
    body = {
        "userId": sub,
        "scoreGiven": score.score_given,
        "scoreMaximum": score.score_maximum,
        "activityProgress": score.activity_progress,
        "gradingProgress": score.grading_progress,
        "timestamp": timestamp_text(score),
    }
    if score.comment:
        body["comment"] = score.comment
    return body


def _ours(item, resource_link_id: str) -> bool:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return False
    link = item.get("resourceLinkId")
    same_link = not resource_link_id or link in (None, "", resource_link_id)
    return same_link and (item.get("resourceId") == RESOURCE_ID or item.get("tag") == TAG)


def _remember(endpoint: ServiceEndpoint, url: str | None) -> None:
    """Kept on a connection of its own: the caller's transaction may never commit."""
    with db.engine.begin() as connection:
        connection.execute(sa.update(ServiceEndpoint).where(ServiceEndpoint.id == endpoint.id)
                           .values(found_lineitem_url=url, updated_at=utcnow()))
    set_committed_value(endpoint, "found_lineitem_url", url)


def find_lineitem(platform: Platform, endpoint: ServiceEndpoint) -> str | None:
    """Our line item among the resource link's, following ``rel="next"`` a bounded number of times."""
    params = {"resource_link_id": endpoint.resource_link_id} if endpoint.resource_link_id else {}
    url, pages = endpoint.ags_lineitems_url, 0
    while url and pages < MAX_PAGES:
        response = tokens.service_request(
            platform, scopes_for(endpoint), "GET", url, what="the LMS's line items service",
            params=params if pages == 0 else None, headers={"Accept": CONTAINER_TYPE})
        try:
            items = response.json()
        except ValueError as error:
            raise DeliveryDeferred("The LMS's line items service sent something that is not JSON.",
                                   status=response.status_code) from error
        for item in items if isinstance(items, list) else []:
            if _ours(item, endpoint.resource_link_id):
                return urljoin(url, item["id"])
        following = response.links.get("next", {}).get("url")
        url, pages = (urljoin(url, following) if following else None), pages + 1
        if url and urlsplit(url).netloc != urlsplit(endpoint.ags_lineitems_url).netloc:
            break  # the bearer token goes to the platform's own host only
    return None


def create_lineitem(platform: Platform, endpoint: ServiceEndpoint, score_maximum: float) -> str:
    body = {"label": LABEL, "scoreMaximum": score_maximum, "resourceId": RESOURCE_ID, "tag": TAG}
    if endpoint.resource_link_id:
        body["resourceLinkId"] = endpoint.resource_link_id
    response = tokens.service_request(
        platform, scopes_for(endpoint), "POST", endpoint.ags_lineitems_url, what="the LMS's line items service",
        json=body, headers={"Content-Type": LINEITEM_TYPE, "Accept": LINEITEM_TYPE})
    try:
        created = response.json()
        return urljoin(endpoint.ags_lineitems_url, created["id"])
    except (ValueError, KeyError, TypeError) as error:
        raise DeliveryDeferred("The LMS created the grade column but did not say where it is.",
                               status=response.status_code) from error


def lineitem_url(platform: Platform, endpoint: ServiceEndpoint, score_maximum: float) -> str:
    if endpoint.ags_lineitem_url:
        return endpoint.ags_lineitem_url
    if endpoint.found_lineitem_url:
        return endpoint.found_lineitem_url
    scopes = set(endpoint.ags_scopes or [])
    if not scopes & {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY}:
        raise DeliveryRefused("The LMS offers scores but neither a grade column for this activity nor access "
                              "to its grade columns. Allow the tool to manage grade columns in the LMS.")
    found = find_lineitem(platform, endpoint)
    if found is None:
        if SCOPE_LINEITEM not in scopes:
            raise DeliveryRefused("The LMS has no grade column for the portfolio and does not let the tool "
                                  "create one. Create a grade column in the LMS or allow column management.")
        found = create_lineitem(platform, endpoint, score_maximum)
    _remember(endpoint, found)
    return found


def send_score(course: Course, score: Score) -> str:
    """Post one intern's score to the course's grade column; returns the LMS's status."""
    endpoint = grade_endpoint(course)
    if endpoint is None:
        raise DeliveryDeferred("No launch of this course has offered the LMS's grade service yet.")
    platform = db.session.get(Platform, course.platform_id)
    intern = db.session.get(User, score.intern_id)
    if intern is None or not intern.lti_sub or intern.platform_id != course.platform_id:
        raise DeliveryRefused("This intern has no account in the course's LMS (they never launched the tool "
                              "from it), so the LMS cannot be told their grade.")
    url = lineitem_url(platform, endpoint, score.score_maximum)
    try:
        response = tokens.service_request(
            platform, scopes_for(endpoint), "POST", scores_url(url), what="the LMS's score service",
            json=score_body(intern.lti_sub, score), headers={"Content-Type": SCORE_TYPE})
    except DeliveryRefused as refused:
        if refused.status == 404 and url == endpoint.found_lineitem_url:
            _remember(endpoint, None)  # the column was deleted in the LMS: look again next time
        raise
    return f"{response.status_code} {response.reason or ''}".rstrip()
