"""LIS role vocabulary → the product's roles, decided once at the launch.

LTI 1.3 sends role URIs from the LIS v2 vocabularies (context, institution and system
roles), and some platforms send short names (``Instructor``). Moodle sends only
``membership#Instructor`` / ``membership#Learner`` plus administrator roles; Canvas sends
a TA as both ``membership/Instructor#TeachingAssistant`` and ``membership#Instructor``,
an observer as ``membership#Mentor``, a test student as ``system/person#TestUser``.
"""

from __future__ import annotations

from portfolio.people.models import Role

LIS = "http://purl.imsglobal.org/vocab/lis/v2/"
LTI1_ROLE = "urn:lti:role:ims/lis/"

ADMIN_ROLES = {
    LIS + "system/person#Administrator",
    LIS + "system/person#SysAdmin",
    LIS + "institution/person#Administrator",
}


def _context_role(uri: str) -> str | None:
    """The context role named by a URI or a short name: ``Instructor``, ``Learner``,
    or a sub-role such as ``TeachingAssistant`` (``membership/Instructor#TeachingAssistant``).
    Institution and system roles other than Administrator carry no course role."""
    if uri.startswith(LIS + "membership#"):
        # Some rosters write a sub-role as ``membership#Instructor#TeachingAssistant``.
        return uri.rsplit("#", 1)[1]
    if uri.startswith(LIS + "membership/"):
        return uri.split("#", 1)[1] if "#" in uri else None
    if uri.startswith(LTI1_ROLE):
        # LTI 1.1 URNs, still found in rosters: ``urn:lti:role:ims/lis/Instructor/TeachingAssistant``.
        return uri[len(LTI1_ROLE):].rsplit("/", 1)[-1] or None
    if uri.startswith("http://purl.imsglobal.org/vocab/lis/v2/") or "://" in uri or "/" in uri:
        return None
    # Short names, as the spec allows for context roles (and Moodle's roster sends).
    return uri


def translate(roles: list[str] | None) -> Role | None:
    """The single product role for a list of LTI roles, or None when none applies.

    The most privileged one wins: admin > advisor > supervisor > intern. A context
    Administrator administers the course, not the platform: an advisor.
    """
    roles = [r.strip() for r in (roles or []) if isinstance(r, str) and r.strip()]
    if any(r in ADMIN_ROLES for r in roles):
        return Role.admin
    names = {name for name in (_context_role(r) for r in roles) if name}
    if names & {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator"}:
        return Role.advisor
    if "Mentor" in names:
        return Role.supervisor
    if "Learner" in names:
        return Role.intern
    return None
