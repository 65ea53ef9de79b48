"""The sandbox LMS as an LTI 1.3 platform: its own RSA key and key set, an OIDC
authorization endpoint that signs real id_tokens, and a demo course with people.

Two platforms share it, one shaped like Moodle 4.5 and one like Canvas (see the
captures in shared/fixtures/lti): issuer ``<base>/sandbox/moodle`` and
``<base>/sandbox/canvas``, with the deployment ids and claims those LMSs send.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from flask import current_app

from lti.keys import generate_rsa_pem, key_id, public_jwk
from lti.views import external_url

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
SHAPES = ("moodle", "canvas")
CLIENT_IDS = {"moodle": "sandbox-moodle-tool", "canvas": "10000000000042"}
DEPLOYMENT_IDS = {"moodle": "1", "canvas": "17:8865aa05b4b79b64a91a86042e43af5ea8ae79eb"}
CONTEXT = {"id": "internship-2026", "label": "INT2026", "title": "International Internship 2026"}


@dataclass(frozen=True)
class DemoPerson:
    key: str
    name: str | None
    email: str | None
    roles: dict[str, list[str]]  # per shape
    locale: str = "en"
    timezone: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    description: str = ""
    mentees: tuple[str, ...] = field(default=())


def _roles(moodle: list[str], canvas: list[str]) -> dict[str, list[str]]:
    return {"moodle": moodle, "canvas": canvas}


LEARNER = _roles([LIS + "membership#Learner"],
                 [LIS + "institution/person#Student", LIS + "membership#Learner", LIS + "system/person#User"])
PEOPLE = [
    DemoPerson("amara", "Amara Okafor", "amara.okafor@student.example.edu", LEARNER, "en", "Pacific/Auckland",
               "Amara", "Okafor", "Intern at a design studio in Auckland"),
    DemoPerson("lucia", "Lucía Fernández", "lucia.fernandez@student.example.edu", LEARNER, "es", "America/Los_Angeles",
               "Lucía", "Fernández", "Intern at a start-up in Los Angeles"),
    DemoPerson("wei", "李伟 (Li Wei)", "li.wei@student.example.edu", LEARNER, "zh-Hans", "Europe/Berlin",
               "伟", "李", "Intern at an engineering firm in Berlin"),
    DemoPerson("anon", None, None, LEARNER, "en", None, None, None,
               "An intern whose LMS shares only an opaque id (anonymous privacy level)"),
    DemoPerson("helen", "Dr. Helen Schmidt", "h.schmidt@example.edu",
               _roles([LIS + "membership#Instructor"], [LIS + "institution/person#Faculty", LIS + "membership#Instructor"]),
               "de", "Europe/Berlin", "Helen", "Schmidt", "Academic advisor of the course"),
    DemoPerson("tomas", "Tomás Ruiz", "t.ruiz@example.edu",
               _roles([LIS + "membership#Instructor"],
                      [LIS + "membership/Instructor#TeachingAssistant", LIS + "membership#Instructor"]),
               "es", "Europe/Madrid", "Tomás", "Ruiz", "Teaching assistant"),
    DemoPerson("mentor", "Claire Dubois", "claire.dubois@host.example.com",
               _roles([LIS + "membership#Mentor"], [LIS + "membership#Mentor"]),
               "fr", "Europe/Paris", "Claire", "Dubois", "Workplace mentor with an LMS account (observer)",
               mentees=("amara",)),
    DemoPerson("admin", "Site Administrator", "lms-admin@example.edu",
               _roles([LIS + "institution/person#Administrator", LIS + "system/person#Administrator"],
                      [LIS + "institution/person#Administrator"]),
               "en", "UTC", None, None, "LMS administrator"),
    DemoPerson("guest", "Guest Visitor", "guest@example.edu", _roles([], []), "en", None, None, None,
               "Someone with no role in the course"),
]
PEOPLE_BY_KEY = {p.key: p for p in PEOPLE}


def sub_for(person: DemoPerson, shape: str) -> str:
    """Moodle sends its numeric user id; Canvas a UUID. Both are stable per person."""
    if shape == "moodle":
        return str(100 + [p.key for p in PEOPLE].index(person.key))
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox-canvas:{person.key}"))


def issuer(shape: str) -> str:
    return external_url("sandbox.course").rstrip("/") + "/" + shape


# --- The platform's signing key ------------------------------------------------------


def _key_path() -> Path:
    return Path(current_app.instance_path) / "sandbox" / "platform-key.pem"


def signing_key() -> tuple[str, str]:
    """(private PEM, kid) of the sandbox platform, made on first use."""
    path = _key_path()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(generate_rsa_pem())
        path.chmod(0o600)
    pem = path.read_text()
    return pem, key_id(pem)


def key_set() -> dict:
    pem, kid = signing_key()
    return {"keys": [public_jwk(pem, kid)]}


def sign(claims: dict) -> str:
    pem, kid = signing_key()
    return jwt.encode(claims, pem, algorithm="RS256", headers={"kid": kid})


# --- Claims ------------------------------------------------------------------------------


def launch_claims(person: DemoPerson, shape: str, *, nonce: str, target_link_uri: str,
                  message_type: str = "LtiResourceLinkRequest", deep_linking_settings: dict | None = None) -> dict:
    """The id_token body the real LMS would send for this person."""
    now = int(time.time())
    claims: dict = {
        "iss": issuer(shape),
        "aud": CLIENT_IDS[shape],
        "sub": sub_for(person, shape),
        "nonce": nonce,
        "iat": now,
        "exp": now + 60,  # Moodle's lifetime; Canvas uses an hour
        CLAIM + "message_type": message_type,
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": DEPLOYMENT_IDS[shape],
        CLAIM + "target_link_uri": target_link_uri,
        CLAIM + "roles": person.roles[shape],
        CLAIM + "context": dict(CONTEXT, type=["CourseSection"] if shape == "moodle"
                                else ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]),
        CLAIM + "resource_link": {"id": "portfolio-1", "title": "Internship e-Portfolio"},
        CLAIM + "launch_presentation": {"locale": person.locale, "document_target": "iframe",
                                         "return_url": external_url("sandbox.course")},
        CLAIM + "tool_platform": {"guid": f"sandbox-{shape}", "name": "Sandbox LMS",
                                   "product_family_code": shape, "version": "sandbox"},
    }
    if message_type != "LtiResourceLinkRequest":
        claims.pop(CLAIM + "resource_link")
    if message_type == "LtiDeepLinkingRequest":
        from lti.sandbox.dynamic import deep_linking_settings as default_settings

        claims["https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"] = (
            deep_linking_settings if deep_linking_settings is not None else default_settings(shape))
    claims.update(service_claims(shape, claims.get(CLAIM + "resource_link")))
    if person.name:
        claims["name"] = person.name
    if person.given_name:
        claims["given_name"] = person.given_name
    if person.family_name:
        claims["family_name"] = person.family_name
    if person.email:
        claims["email"] = person.email
    if shape == "moodle":
        claims[CLAIM + "ext"] = {"user_username": person.key, "lms": "moodle-2"}
        claims[CLAIM + "custom"] = {"portfolio_mode": "internship"}
        if person.timezone:
            claims[CLAIM + "custom"]["timezone"] = person.timezone
    else:
        claims["azp"] = CLIENT_IDS[shape]
        claims["exp"] = now + 3600
        if person.name is None:  # Canvas at the anonymous privacy level: only sub
            claims.pop(CLAIM + "launch_presentation")
        else:
            claims["locale"] = person.locale
        claims[CLAIM + "custom"] = {"canvas_course_id": "77"}
        if person.timezone:
            claims[CLAIM + "custom"]["canvas_user_timezone"] = person.timezone
        claims["https://www.instructure.com/placement"] = "course_navigation"
        if person.mentees:
            claims[CLAIM + "role_scope_mentor"] = [sub_for(PEOPLE_BY_KEY[k], shape) for k in person.mentees]
    return claims


def service_claims(shape: str, resource_link: dict | None) -> dict:
    """The AGS and NRPS claims. Moodle makes a grade column per activity and names it
    (``lineitem``, with Moodle's ``type_id`` query); Canvas, for a link that is not an
    assignment, gives only the line items URL and leaves the column to the tool."""
    from lti.sandbox.services import DEFAULT_LINEITEM, SERVICE_SCOPES

    query = "?type_id=1" if shape == "moodle" else ""
    endpoint = {
        "scope": [s for s in SERVICE_SCOPES if "lti-ags" in s],
        "lineitems": external_url("sandbox_services.lineitems", shape=shape, context_id=CONTEXT["id"]) + query,
    }
    if shape == "moodle" and resource_link and resource_link.get("id") == DEFAULT_LINEITEM["resource_link_id"]:
        endpoint["lineitem"] = external_url("sandbox_services.lineitem", shape=shape, context_id=CONTEXT["id"],
                                            key=DEFAULT_LINEITEM["key"]) + query
    return {
        "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": endpoint,
        "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
            "context_memberships_url": external_url("sandbox_services.memberships", shape=shape,
                                                    context_id=CONTEXT["id"]),
            "service_versions": ["2.0"],
        },
    }


def describe(claims: dict) -> str:
    return json.dumps(claims, indent=1, ensure_ascii=False, sort_keys=True)
