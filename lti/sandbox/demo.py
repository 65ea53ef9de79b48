"""The demo courses, provisioned exactly as launches from the sandbox would provision
them: one on the Moodle-shaped platform and one on the Canvas-shaped one."""

from __future__ import annotations

from lti import roles
from lti.registry import find_deployment
from lti.sandbox import platform as sandbox
from lti.sandbox.registration import ensure_platforms
from portfolio.demo import load_course_content
from portfolio.people import operations
from portfolio.people.models import Course, Role


def load_demo() -> list[Course]:
    """Idempotent: running it twice changes nothing the first run made."""
    return [_load_course(platform, shape) for platform, shape in zip(ensure_platforms(), sandbox.SHAPES)]


def _load_course(platform, shape: str) -> Course:
    deployment = find_deployment(platform, sandbox.DEPLOYMENT_IDS[shape])
    course = operations.provision_course(operations.LaunchedCourse(
        platform_id=platform.id, deployment_id=deployment.id, context_id=sandbox.CONTEXT["id"],
        title=sandbox.CONTEXT["title"], label=sandbox.CONTEXT["label"],
    ))
    interns, advisor = {}, None
    for person in sandbox.PEOPLE:
        role = roles.translate(person.roles[shape])
        if role is None:
            continue
        user = operations.provision_user(operations.LaunchedPerson(
            platform_id=platform.id, sub=sandbox.sub_for(person, shape), name=person.name, email=person.email,
            locale=person.locale, timezone=person.timezone,
        ))
        operations.set_membership(user, course, role, via="demo")
        if role is Role.intern:
            interns[person.key] = user
        elif role is Role.advisor and advisor is None:
            advisor = user
    load_course_content(course, interns, advisor)
    return course
