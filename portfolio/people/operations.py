"""Provisioning: the people and courses an LMS launch vouches for.

Every function here checks, changes and flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

import sqlalchemy as sa

from portfolio.audit.operations import record_event
from portfolio.db import db, utcnow
from portfolio.people.models import Course, Membership, Role, User

_TIMEZONES = frozenset(available_timezones())


@dataclass(frozen=True)
class LaunchedPerson:
    """What a validated launch says about the person (only ``sub`` is guaranteed)."""

    platform_id: int
    sub: str
    name: str | None = None
    email: str | None = None
    locale: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class LaunchedCourse:
    platform_id: int
    deployment_id: int
    context_id: str
    title: str | None = None
    label: str | None = None


def valid_timezone(name: str | None) -> str | None:
    return name if name in _TIMEZONES else None


def provision_user(person: LaunchedPerson) -> User:
    """The user keyed by (platform, sub), created on first launch, refreshed on every one.

    A launch without name or email keeps what we already know.
    """
    user = db.session.scalar(
        sa.select(User).where(User.platform_id == person.platform_id, User.lti_sub == person.sub)
    )
    if user is None:
        user = User(platform_id=person.platform_id, lti_sub=person.sub)
        db.session.add(user)
    if person.name:
        user.name = person.name[:255]
    if person.email:
        user.email = person.email[:320]
    if person.locale:
        user.locale = person.locale[:35]
    if valid_timezone(person.timezone):
        user.timezone = person.timezone
    user.last_seen_at = utcnow()
    db.session.flush()
    return user


def provision_course(launched: LaunchedCourse) -> Course:
    """The course keyed by (platform, deployment, context id)."""
    course = db.session.scalar(
        sa.select(Course).where(
            Course.platform_id == launched.platform_id,
            Course.deployment_id == launched.deployment_id,
            Course.context_id == launched.context_id,
        )
    )
    if course is None:
        course = Course(
            platform_id=launched.platform_id,
            deployment_id=launched.deployment_id,
            context_id=launched.context_id,
        )
        db.session.add(course)
    if launched.title:
        course.title = launched.title[:255]
    if launched.label:
        course.label = launched.label[:255]
    db.session.flush()
    return course


def set_membership(user: User, course: Course, role: Role, *, via: str) -> Membership:
    """One role per person per course; the latest launch's role wins."""
    membership = db.session.scalar(
        sa.select(Membership).where(Membership.user_id == user.id, Membership.course_id == course.id)
    )
    if membership is None:
        membership = Membership(user=user, course=course, role=role)
        db.session.add(membership)
        db.session.flush()
        record_event("membership.created", actor=user, course=course, subject=membership, via=via, role=role.value)
    elif membership.role is not role:
        previous = membership.role
        membership.role = role
        db.session.flush()
        record_event(
            "membership.role_changed", actor=user, course=course, subject=membership, via=via,
            role=role.value, previous=previous.value,
        )
    return membership


def update_preferences(user: User, *, locale: str | None, timezone: str | None) -> None:
    """A person may always choose their own language and time zone; None follows the LMS."""
    user.preferred_locale = locale or None
    if timezone is not None and not valid_timezone(timezone):
        raise ValueError("unknown time zone")
    user.preferred_timezone = timezone or None
    db.session.flush()
