"""The sandbox LMS's LTI Advantage services, as a platform serves them to the tool:
Assignment and Grade Services 2.0 (line items and scores) and Names and Role
Provisioning Services 2.0 (the course's memberships), plus a gradebook page that shows
what the tool posted.

Each service checks the access token the sandbox's token endpoint issued (a JWT signed
by the sandbox: signature, expiry, issuer of this shape, the scope the call needs).
The Moodle shape has a grade column for the default activity and lists roles by short
name (``Learner``, ``Instructor``); the Canvas shape lets the tool create its column,
lists full role URIs and says "Rate Limit Exceeded" with a 403.

Faults for tests and the demo: :func:`inject` (or ``POST /sandbox/faults``) queues
answers the next service requests get instead of being served — ``503``, ``timeout``
(no answer until after the tool's read timeout), ``rate-limit``, ``401`` (the token
rejected) and ``400``.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from datetime import datetime

import jwt as pyjwt
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization
from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from lti.sandbox import platform as sandbox
from lti.sandbox.models import SandboxLineItem, SandboxScore
from lti.views import external_url
from portfolio.db import db

bp = Blueprint("sandbox_services", __name__, url_prefix="/sandbox")

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY = AGS + "lineitem", AGS + "lineitem.readonly"
SCOPE_RESULT_READONLY, SCOPE_SCORE = AGS + "result.readonly", AGS + "score"
SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SERVICE_SCOPES = [SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE, SCOPE_MEMBERSHIPS]

LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
CONTAINER_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULTS_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"
MEMBERSHIPS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
ACTIVITY_PROGRESS = {"Initialized", "Started", "InProgress", "Submitted", "Completed"}
GRADING_PROGRESS = {"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"}

# Moodle's grade column for the activity of the default resource link.
DEFAULT_LINEITEM = {"key": "portfolio-1", "resource_link_id": "portfolio-1", "label": "Internship e-Portfolio",
                    "score_maximum": 100.0}

# --- Faults ------------------------------------------------------------------------------

FAULTS = ("503", "timeout", "rate-limit", "401", "400")
_faults: collections.deque[str] = collections.deque()
_faults_lock = threading.Lock()
# Members whose enrolment is not active (person key → "Inactive" or "Deleted"), per the roster.
member_status: dict[str, str] = {}


def inject(*faults: str) -> None:
    """Queue answers for the next service requests, in order, one per request."""
    unknown = [f for f in faults if f not in FAULTS]
    if unknown:
        raise ValueError(f"unknown fault(s) {unknown}; known: {', '.join(FAULTS)}")
    with _faults_lock:
        _faults.extend(faults)


def clear_faults() -> None:
    with _faults_lock:
        _faults.clear()


def pending_faults() -> list[str]:
    with _faults_lock:
        return list(_faults)


def _next_fault() -> str | None:
    with _faults_lock:
        return _faults.popleft() if _faults else None


def _read_timeout() -> float:
    timeout = current_app.config["LTI_HTTP_TIMEOUT"]
    return float(timeout[1] if isinstance(timeout, (tuple, list)) else timeout)


def _fault_response(fault: str, shape: str) -> Response:
    if fault == "503":
        return Response("Service Unavailable", 503, content_type="text/plain")
    if fault == "timeout":
        time.sleep(min(_read_timeout() + 0.5, 60))  # the tool has given up by now
        return Response("Gateway Timeout", 504, content_type="text/plain")
    if fault == "rate-limit":
        if shape == "canvas":  # Canvas's throttling answer
            return Response("403 Forbidden (Rate Limit Exceeded)", 403, content_type="text/plain")
        return Response("Too Many Requests", 429, {"Retry-After": "2"}, content_type="text/plain")
    if fault == "401":
        return _error(401, "invalid_token", "The access token was rejected.")
    return _error(400, "invalid_request", "The LMS refused the request (an injected fault).")


def _error(status: int, error: str, description: str) -> Response:
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer error="{error}"'
    return response


# --- Access -----------------------------------------------------------------------------


def _course(shape: str, context_id: str) -> None:
    if shape not in sandbox.SHAPES or context_id != sandbox.CONTEXT["id"]:
        abort(404)


def _check_token(shape: str, needed: set[str]) -> Response | None:
    """None when the Bearer token is the sandbox's own, unexpired, for this shape, with one of ``needed``."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _error(401, "invalid_token", "An access token (Authorization: Bearer) is required.")
    pem, _ = sandbox.signing_key()
    public_key = serialization.load_pem_private_key(pem.encode(), password=None).public_key()
    try:
        claims = pyjwt.decode(header[len("Bearer "):].strip(), public_key, algorithms=["RS256"],
                              issuer=sandbox.issuer(shape), options={"require": ["exp", "iat", "iss", "scope"]})
    except pyjwt.PyJWTError as error:
        return _error(401, "invalid_token", f"The access token is not valid: {error}.")
    if not needed & set(str(claims.get("scope", "")).split()):
        return _error(403, "insufficient_scope", "The access token lacks the scope: " + " or ".join(sorted(needed)))
    return None


def _gate(shape: str, context_id: str, needed: set[str]) -> Response | None:
    _course(shape, context_id)
    fault = _next_fault()
    if fault:
        return _fault_response(fault, shape)
    return _check_token(shape, needed)


# --- Line items --------------------------------------------------------------------------


def _ensure_default(shape: str) -> None:
    if shape != "moodle":
        return
    exists = db.session.scalar(sa.select(SandboxLineItem.id).where(
        SandboxLineItem.shape == shape, SandboxLineItem.context_id == sandbox.CONTEXT["id"],
        SandboxLineItem.key == DEFAULT_LINEITEM["key"]))
    if exists is None:
        db.session.add(SandboxLineItem(
            shape=shape, context_id=sandbox.CONTEXT["id"], key=DEFAULT_LINEITEM["key"],
            label=DEFAULT_LINEITEM["label"], score_maximum=DEFAULT_LINEITEM["score_maximum"],
            resource_link_id=DEFAULT_LINEITEM["resource_link_id"]))
        db.session.flush()


def _lineitem_url(item: SandboxLineItem) -> str:
    url = external_url("sandbox_services.lineitem", shape=item.shape, context_id=item.context_id, key=item.key)
    return url + ("?type_id=1" if item.shape == "moodle" else "")


def _lineitem_json(item: SandboxLineItem) -> dict:
    body = {"id": _lineitem_url(item), "label": item.label, "scoreMaximum": item.score_maximum}
    for name, value in (("resourceLinkId", item.resource_link_id), ("resourceId", item.resource_id),
                        ("tag", item.tag)):
        if value:
            body[name] = value
    return body


def _load_lineitem(shape: str, context_id: str, key: str) -> SandboxLineItem:
    return db.session.scalar(sa.select(SandboxLineItem).where(
        SandboxLineItem.shape == shape, SandboxLineItem.context_id == context_id,
        SandboxLineItem.key == key)) or abort(404)


@bp.route("/<shape>/courses/<context_id>/lineitems", methods=["GET", "POST"])
def lineitems(shape: str, context_id: str):
    needed = {SCOPE_LINEITEM} if request.method == "POST" else {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY}
    refused = _gate(shape, context_id, needed)
    if refused:
        return refused
    _ensure_default(shape)
    if request.method == "POST":
        return _create_lineitem(shape, context_id)
    query = sa.select(SandboxLineItem).where(SandboxLineItem.shape == shape,
                                             SandboxLineItem.context_id == context_id)
    for param, column in (("resource_link_id", SandboxLineItem.resource_link_id),
                          ("resource_id", SandboxLineItem.resource_id), ("tag", SandboxLineItem.tag)):
        if request.args.get(param):
            query = query.where(column == request.args[param])
    items = db.session.scalars(query.order_by(SandboxLineItem.id)).all()
    db.session.commit()
    return Response(_json([_lineitem_json(i) for i in items]), content_type=CONTAINER_TYPE)


def _json(value) -> str:
    return current_app.json.dumps(value)


def _create_lineitem(shape: str, context_id: str):
    if request.mimetype != LINEITEM_TYPE:
        return _error(415, "unsupported_media_type", f"A line item is sent as {LINEITEM_TYPE}.")
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return _error(400, "invalid_request", "The line item is not a JSON object.")
    label, maximum = body.get("label"), body.get("scoreMaximum")
    if not isinstance(label, str) or not label.strip():
        return _error(400, "invalid_request", "label is required.")
    if isinstance(maximum, bool) or not isinstance(maximum, (int, float)) or maximum <= 0:
        return _error(400, "invalid_request", "scoreMaximum must be a number greater than 0.")
    texts = {name: body.get(name) if isinstance(body.get(name), str) else None
             for name in ("resourceLinkId", "resourceId", "tag")}
    item = SandboxLineItem(shape=shape, context_id=context_id, key=uuid.uuid4().hex[:12], label=label.strip()[:255],
                           score_maximum=float(maximum), resource_link_id=texts["resourceLinkId"],
                           resource_id=texts["resourceId"], tag=texts["tag"])
    db.session.add(item)
    db.session.commit()
    return Response(_json(_lineitem_json(item)), 201, content_type=LINEITEM_TYPE)


@bp.get("/<shape>/courses/<context_id>/lineitems/<key>")
def lineitem(shape: str, context_id: str, key: str):
    refused = _gate(shape, context_id, {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY})
    if refused:
        return refused
    _ensure_default(shape)
    item = _load_lineitem(shape, context_id, key)
    db.session.commit()
    return Response(_json(_lineitem_json(item)), content_type=LINEITEM_TYPE)


def _person_subs(shape: str) -> set[str]:
    return {sandbox.sub_for(p, shape) for p in sandbox.PEOPLE}


def _parse_timestamp(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@bp.post("/<shape>/courses/<context_id>/lineitems/<key>/scores")
def scores(shape: str, context_id: str, key: str):
    """Keep every score; apply it only when its timestamp is newer than the applied one."""
    refused = _gate(shape, context_id, {SCOPE_SCORE})
    if refused:
        return refused
    _ensure_default(shape)
    item = _load_lineitem(shape, context_id, key)
    if request.mimetype != SCORE_TYPE:
        return _error(415, "unsupported_media_type", f"A score is sent as {SCORE_TYPE}.")
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return _error(400, "invalid_request", "The score is not a JSON object.")
    problems = []
    user_id = body.get("userId")
    if user_id not in _person_subs(shape):
        problems.append("userId is not a person of this course")
    stamp = _parse_timestamp(body.get("timestamp"))
    if stamp is None:
        problems.append("timestamp must be an ISO 8601 date-time with an offset")
    if body.get("activityProgress") not in ACTIVITY_PROGRESS:
        problems.append("activityProgress is missing or unknown")
    if body.get("gradingProgress") not in GRADING_PROGRESS:
        problems.append("gradingProgress is missing or unknown")
    given, maximum = _number(body.get("scoreGiven")), _number(body.get("scoreMaximum"))
    if "scoreGiven" in body and (given is None or given < 0):
        problems.append("scoreGiven must be a number of at least 0")
    if given is not None and (maximum is None or maximum <= 0):
        problems.append("scoreMaximum must be a number greater than 0 when scoreGiven is sent")
    comment = body.get("comment")
    if comment is not None and not isinstance(comment, str):
        problems.append("comment must be a string")
    if problems:
        return _error(400, "invalid_request", "; ".join(problems) + ".")
    last = db.session.scalar(
        sa.select(SandboxScore.timestamp).where(SandboxScore.line_item_id == item.id,
                                                SandboxScore.user_id == user_id, SandboxScore.applied.is_(True))
        .order_by(SandboxScore.timestamp.desc()).limit(1))
    db.session.add(SandboxScore(
        line_item_id=item.id, user_id=user_id, score_given=given, score_maximum=maximum, comment=comment,
        activity_progress=body["activityProgress"], grading_progress=body["gradingProgress"],
        timestamp=stamp, timestamp_text=body["timestamp"][:64], applied=last is None or stamp > last))
    db.session.commit()
    if shape == "canvas":
        return jsonify(resultUrl=_lineitem_url(item) + f"/results/{user_id}")
    return Response(status=204)


@bp.get("/<shape>/courses/<context_id>/lineitems/<key>/results")
def results(shape: str, context_id: str, key: str):
    refused = _gate(shape, context_id, {SCOPE_RESULT_READONLY})
    if refused:
        return refused
    _ensure_default(shape)
    item = _load_lineitem(shape, context_id, key)
    db.session.commit()
    return Response(_json([
        {"id": _lineitem_url(item) + f"/results/{score.user_id}", "scoreOf": _lineitem_url(item),
         "userId": score.user_id, "resultScore": score.score_given, "resultMaximum": score.score_maximum,
         "comment": score.comment}
        for score in latest_scores(item).values()
    ]), content_type=RESULTS_TYPE)


def latest_scores(item: SandboxLineItem) -> dict[str, SandboxScore]:
    """The applied score with the newest timestamp, per person."""
    latest: dict[str, SandboxScore] = {}
    for score in item.scores:
        if score.applied and (score.user_id not in latest or score.timestamp > latest[score.user_id].timestamp):
            latest[score.user_id] = score
    return latest


# --- Memberships -------------------------------------------------------------------------


def _roles_as_listed(roles: list[str], shape: str) -> list[str]:
    """Moodle's roster names context roles by their short name; Canvas by their URI."""
    if shape != "moodle":
        return list(roles)
    return [r.split("#", 1)[1] if r.startswith(sandbox.LIS + "membership#") else r for r in roles]


def _member(person: sandbox.DemoPerson, shape: str) -> dict:
    member = {"status": member_status.get(person.key, "Active"), "user_id": sandbox.sub_for(person, shape),
              "roles": _roles_as_listed(person.roles[shape], shape)}
    for name in ("name", "given_name", "family_name", "email"):
        if getattr(person, name):
            member[name] = getattr(person, name)
    return member


@bp.get("/<shape>/courses/<context_id>/memberships")
def memberships(shape: str, context_id: str):
    """Everyone enrolled, whether or not they ever launched; pages when ``limit`` is given."""
    refused = _gate(shape, context_id, {SCOPE_MEMBERSHIPS})
    if refused:
        return refused
    members = [_member(p, shape) for p in sandbox.PEOPLE if p.roles[shape]]
    headers = {}
    limit = request.args.get("limit", type=int)
    if limit and limit > 0:
        page = max(request.args.get("page", 1, type=int), 1)
        start = (page - 1) * limit
        if start + limit < len(members):
            following = external_url("sandbox_services.memberships", shape=shape, context_id=context_id,
                                     limit=limit, page=page + 1)
            headers["Link"] = f'<{following}>; rel="next"'
        members = members[start:start + limit]
    container = {"id": request.base_url, "context": dict(sandbox.CONTEXT), "members": members}
    return Response(_json(container), headers=headers, content_type=MEMBERSHIPS_TYPE)


# --- The gradebook and the faults --------------------------------------------------------


@bp.get("/gradebook")
def gradebook():
    items = db.session.scalars(sa.select(SandboxLineItem).order_by(SandboxLineItem.shape, SandboxLineItem.id)).all()
    columns = []
    for item in items:
        latest = latest_scores(item)
        rows = []
        for person in sandbox.PEOPLE:
            sub = sandbox.sub_for(person, item.shape)
            received = [s for s in item.scores if s.user_id == sub]
            if not person.roles[item.shape] and not received:
                continue
            rows.append({"person": person, "sub": sub, "latest": latest.get(sub), "received": len(received),
                         "ignored": sum(1 for s in received if not s.applied)})
        columns.append({"item": item, "rows": rows})
    return render_template("sandbox/gradebook.html", columns=columns, faults=FAULTS, pending=pending_faults(),
                           context=sandbox.CONTEXT)


@bp.route("/faults", methods=["GET", "POST"])
def faults():
    """JSON ``{"faults": ["503", "timeout"]}`` queues faults, ``{"clear": true}`` empties
    the queue; the gradebook page's form posts ``fault`` instead and comes back."""
    if request.method == "POST":
        data = request.get_json(silent=True) if request.is_json else None
        try:
            if data is not None:
                if not isinstance(data, dict):
                    return _error(400, "invalid_request", "Send a JSON object.")
                if data.get("clear"):
                    clear_faults()
                queued = data.get("faults") or []
                if not isinstance(queued, list) or not all(isinstance(f, str) for f in queued):
                    return _error(400, "invalid_request", "faults must be a list of names.")
                inject(*queued)
            elif request.form.get("clear"):
                clear_faults()
            else:
                inject(request.form.get("fault", ""))
        except ValueError as error:
            return _error(400, "invalid_request", str(error))
        if data is None:
            return redirect(url_for(".gradebook"))
    return jsonify(faults=pending_faults(), known=list(FAULTS))
