"""Changes to a course's objective framework.

Every function checks that the person may manage the framework of this course, changes,
flushes and records an audit event; the caller commits. Positions run 1..n within the
course after every change that moves, adds or removes an objective.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l, ngettext
from sqlalchemy.exc import IntegrityError

from portfolio.audit.operations import record_event
from portfolio.db import db, utcnow
from portfolio.errors import DomainError, InvalidTransition, ensure
from portfolio.objectives import queries
from portfolio.objectives.importers import ImportRow
from portfolio.objectives.models import Objective
from portfolio.people.models import Course, Membership

FIELDS = ("code", "title", "description", "area", "target")


class CodeTaken(DomainError):
    code = 409
    description = _l("Another objective of this course already has this code.")


def _check(by: Membership, course_id: int) -> None:
    ensure(Objective.can_manage(by) and by.course_id == course_id)


def _code_taken(course_id: int, code: str, *, other_than: int | None = None) -> bool:
    found = db.session.scalar(queries.code_in_course(course_id, code))
    return found is not None and found != other_than


def _framework(course_id: int) -> list[Objective]:
    return list(db.session.scalars(queries.course_objectives(course_id, include_retired=True)))


def _renumber(objectives: list[Objective]) -> None:
    for position, objective in enumerate(objectives, start=1):
        objective.position = position


def _append(by: Membership, values: dict, *, via: str, **details) -> Objective:
    position = db.session.scalar(queries.last_position(by.course_id)) + 1
    objective = Objective(course_id=by.course_id, position=position, **values)
    try:
        with db.session.begin_nested():  # someone else may take the code between check and insert
            db.session.add(objective)
    except IntegrityError as error:
        raise CodeTaken() from error
    record_event("objective.created", by=by, subject=objective, via=via,
                 code=objective.code, **details)
    return objective


def create_objective(by: Membership, *, code: str, title: str, description: str = "", area: str | None = None,
                     target: int = 3, via: str = "web") -> Objective:
    """Advisors add an objective at the end of the framework; a code is unique within the course."""
    _check(by, by.course_id)
    if _code_taken(by.course_id, code):
        raise CodeTaken()
    values = dict(code=code, title=title, description=description or "", area=area or None, target=target)
    return _append(by, values, via=via)


def update_objective(objective: Objective, by: Membership, *, via: str = "web", **values) -> bool:
    """Advisors change an objective's code, title, description, area or target; codes stay unique."""
    _check(by, objective.course_id)
    if "code" in values and _code_taken(objective.course_id, values["code"], other_than=objective.id):
        raise CodeTaken()
    changed = []
    for name in FIELDS:
        if name in values:
            value = (values[name] or None) if name == "area" else values[name]
            if getattr(objective, name) != value:
                setattr(objective, name, value)
                changed.append(name)
    if changed:
        db.session.flush()
        record_event("objective.updated", by=by, subject=objective, via=via,
                     code=objective.code, changed=changed)
    return bool(changed)


def move_objective(objective: Objective, by: Membership, direction: str, *, via: str = "web") -> bool:
    """An objective swaps places with its neighbour in the same area; at either end nothing moves."""
    _check(by, objective.course_id)
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be up or down, not {direction!r}")
    framework = _framework(objective.course_id)
    same_area = [o for o in framework if o.area == objective.area]
    index = same_area.index(objective) + (-1 if direction == "up" else 1)
    if not 0 <= index < len(same_area):
        return False
    a, b = framework.index(objective), framework.index(same_area[index])
    framework[a], framework[b] = framework[b], framework[a]
    _renumber(framework)
    db.session.flush()
    record_event("objective.moved", by=by, subject=objective, via=via,
                 code=objective.code, direction=direction, position=objective.position)
    return True


def retire_objective(objective: Objective, by: Membership, *, via: str = "web") -> None:
    """A retired objective stays on the tasks that used it but is no longer offered."""
    _check(by, objective.course_id)
    if objective.is_retired:
        raise InvalidTransition(_l("This objective is already retired."))
    objective.retired_at = utcnow()
    db.session.flush()
    record_event("objective.retired", by=by, subject=objective, via=via, code=objective.code)


def reactivate_objective(objective: Objective, by: Membership, *, via: str = "web") -> None:
    """A retired objective can be offered again."""
    _check(by, objective.course_id)
    if not objective.is_retired:
        raise InvalidTransition(_l("This objective is not retired."))
    objective.retired_at = None
    db.session.flush()
    record_event("objective.reactivated", by=by, subject=objective, via=via,
                 code=objective.code)


def delete_objective(objective: Objective, by: Membership, *, via: str = "web") -> None:
    """Only an objective no task uses is deleted; a used one is retired instead."""
    _check(by, objective.course_id)
    used = db.session.scalar(queries.task_count(objective.id))
    if used:
        raise DomainError(ngettext("This objective is used by %(num)d task; retire it instead.",
                                   "This objective is used by %(num)d tasks; retire it instead.", used))
    record_event("objective.deleted", by=by, subject=objective, via=via,
                 code=objective.code, title=objective.title)
    db.session.delete(objective)
    db.session.flush()
    _renumber(_framework(by.course_id))
    db.session.flush()


def copy_objectives(source: Course, by: Membership, *, via: str = "web") -> tuple[list[Objective], list[str]]:
    """Another course of the same platform lends its active objectives; codes this course has are skipped."""
    _check(by, by.course_id)
    ensure(source.platform_id == by.course.platform_id and source.id != by.course_id)
    copied, skipped = [], []
    for original in db.session.scalars(queries.course_objectives(source.id)):
        if _code_taken(by.course_id, original.code):
            skipped.append(original.code)
            continue
        values = {name: getattr(original, name) for name in FIELDS}
        copied.append(_append(by, values, via=via, copied_from=original.id, source_course_id=source.id))
    return copied, skipped


def import_objectives(rows: list[ImportRow], by: Membership, *, source: str, via: str = "web") -> tuple[int, int]:
    """A checked file goes in whole: known codes are updated, new ones are added at the end.

    Returns how many objectives were added and how many existing ones changed.
    """
    _check(by, by.course_id)
    existing = {o.code: o for o in _framework(by.course_id)}
    created = updated = 0
    for row in rows:
        changes = dict(row.changes)
        retired = changes.pop("retired", None)
        objective = existing.get(row.code)
        if objective is None:
            values = {"description": "", "area": None, "target": 3, **changes, "code": row.code}
            objective = existing[row.code] = _append(by, values, via=via, source=source)
            created += 1
            if retired:
                retire_objective(objective, by, via=via)
            continue
        changed = update_objective(objective, by, via=via, **changes)
        if retired is not None and retired != objective.is_retired:
            (retire_objective if retired else reactivate_objective)(objective, by, via=via)
            changed = True
        if changed:
            updated += 1
    return created, updated
