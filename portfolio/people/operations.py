"""Provisioning: the people and courses an LMS launch vouches for.

Every function here checks, changes and flushes; the caller commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import available_timezones

import sqlalchemy as sa

from portfolio.audit.operations import record_event
from portfolio.db import db, utcnow
from portfolio.errors import ensure
from portfolio.people.models import Course, Membership, Role, User

if TYPE_CHECKING:
    from portfolio.lms import RosterMember

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


def adopt_browser_timezone(user: User, timezone: str | None) -> bool:
    """A person without a time zone (the LMS sent none, they chose none) takes their
    browser's; one they already have is never replaced. True when it was taken."""
    zone = valid_timezone(timezone)
    if zone is None or user.timezone or user.preferred_timezone:
        return False
    user.timezone = zone
    record_event("timezone_from_browser", actor=user, subject=user, timezone=zone)
    db.session.flush()
    return True


@dataclass(frozen=True)
class RosterSyncResult:
    """What a roster sync did: ``added`` memberships created (and their users when new),
    ``updated`` people whose name or email the LMS changed, ``unchanged`` the rest of the
    people it knew, ``skipped`` members with no role in this product or not active."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0


_ROSTER_BATCH = 500  # keeps every IN (...) list well under the databases' parameter limits


def sync_roster(course: Course, members: list[RosterMember], *, by: Membership | None,
                via: str = "roster") -> RosterSyncResult:
    """Bring the course's people in line with the LMS roster (``RosterMember`` rows).

    People are keyed by (platform, sub), as launches key them; the LMS's name and email
    replace ours when it sends them. A person with no membership gets one with the
    roster's role. An existing membership keeps its role: the launch role wins, because a
    roster (Moodle's names-and-roles service answers short role names) may call a
    non-editing teacher a Learner. Members without a role of this product, or inactive,
    are skipped. ``by`` is the advisor asking, or None for the scheduled job.
    """
    if by is not None:
        ensure(by.course_id == course.id and by.can_view_cohort())
    wanted: dict[str, RosterMember] = {}
    skipped = 0
    for member in members:
        if member.role is None or not member.active or not member.sub:
            skipped += 1
        else:
            wanted.setdefault(member.sub, member)

    subs = list(wanted)
    users: dict[str, User] = {}
    member_of_course: set[int] = set()
    for i in range(0, len(subs), _ROSTER_BATCH):
        batch = subs[i:i + _ROSTER_BATCH]
        for user in db.session.scalars(
                sa.select(User).where(User.platform_id == course.platform_id, User.lti_sub.in_(batch))):
            users[user.lti_sub] = user
    known_ids = [u.id for u in users.values()]
    for i in range(0, len(known_ids), _ROSTER_BATCH):
        member_of_course.update(db.session.scalars(sa.select(Membership.user_id).where(
            Membership.course_id == course.id, Membership.user_id.in_(known_ids[i:i + _ROSTER_BATCH]))))

    added = updated = unchanged = 0
    for sub, member in wanted.items():
        name = (member.name or "").strip()[:255] or None
        email = (member.email or "").strip()[:320] or None
        user = users.get(sub)
        changed = False
        if user is None:
            user = User(platform_id=course.platform_id, lti_sub=sub, name=name, email=email)
            db.session.add(user)
        else:
            # Like a launch, a roster without name or email keeps what we know.
            if name and user.name != name:
                user.name, changed = name, True
            if email and user.email != email:
                user.email, changed = email, True
        if user.id is None or user.id not in member_of_course:
            db.session.add(Membership(user=user, course=course, role=member.role))
            added += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
    db.session.flush()
    result = RosterSyncResult(added=added, updated=updated, unchanged=unchanged, skipped=skipped)
    record_event("roster.synced", actor=by.user if by is not None else None, course=course, via=via,
                 added=added, updated=updated, unchanged=unchanged, skipped=skipped)
    return result
