"""The demo course, provisioned exactly as launches from the sandbox would provision it."""

from __future__ import annotations

from lti import roles
from lti.registry import find_deployment
from lti.sandbox import platform as sandbox
from lti.sandbox.registration import ensure_platforms
from portfolio.demo import load_course_content
from portfolio.people import operations
from portfolio.people.models import Role


def load_demo():
    """Idempotent: running it twice changes nothing the first run made."""
    platforms = ensure_platforms()
    moodle = platforms[0]
    deployment = find_deployment(moodle, sandbox.DEPLOYMENT_IDS["moodle"])
    course = operations.provision_course(operations.LaunchedCourse(
        platform_id=moodle.id, deployment_id=deployment.id, context_id=sandbox.CONTEXT["id"],
        title=sandbox.CONTEXT["title"], label=sandbox.CONTEXT["label"],
    ))
    interns, advisor = {}, None
    for person in sandbox.PEOPLE:
        role = roles.translate(person.roles["moodle"])
        if role is None:
            continue
        user = operations.provision_user(operations.LaunchedPerson(
            platform_id=moodle.id, sub=sandbox.sub_for(person, "moodle"), name=person.name, email=person.email,
            locale=person.locale, timezone=person.timezone,
        ))
        operations.set_membership(user, course, role, via="demo")
        if role is Role.intern:
            interns[person.key] = user
        elif role is Role.advisor and advisor is None:
            advisor = user
    load_course_content(course, interns, advisor)
    return course
