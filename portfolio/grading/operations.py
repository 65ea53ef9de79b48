"""Changes to rubrics and grades.

Every function checks that the person may do it in this course, changes, flushes and
records an audit event; the caller commits. A grade's score is always computed here, as
the sum of the chosen levels' points out of the rubric's maximum, never taken from a form.

Releasing a grade, and any later change to a released grade's score, maximum or comment
(including one caused by editing the rubric), writes the grade's ``ScoreDelivery`` in the
same transaction: the outbox row that ``passback.deliver_due`` sends to the LMS. Its
``timestamp`` strictly increases with every new score, so the LMS keeps the newest one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portfolio.audit.operations import record_event
from portfolio.db import db, utcnow
from portfolio.errors import Conflict, DomainError, InvalidTransition, ensure
from portfolio.grading import queries
from portfolio.grading.models import (
    Criterion, DeliveryState, Grade, GradeState, Level, Mark, Rubric, ScoreDelivery,
)
from portfolio.people.models import Course, Membership, Role, User

TITLE_LENGTH = 255
TEXT_LENGTH = 5000
MAX_POINTS = Decimal("999999.99")  # what Numeric(8, 2) holds
MAX_LEVELS = 20
CENT = Decimal("0.01")
ONE_MICROSECOND = timedelta(microseconds=1)


class InvalidRubric(DomainError):
    code = 422


class InvalidGrade(DomainError):
    code = 400


@dataclass
class LevelData:
    """One level as an advisor entered it; ``id`` names an existing level of the criterion."""

    title: str
    points: Decimal
    description: str = ""
    id: int | None = None


# --- who may ------------------------------------------------------------------------------


def can_manage_rubric(membership: Membership) -> bool:
    """The course's advisors (and admins) shape its rubric."""
    return membership.can_view_cohort()


def can_grade(membership: Membership) -> bool:
    """The course's advisors (and admins) grade, release and resend grades."""
    return membership.can_view_cohort()


def can_view_grade(membership: Membership, grade: Grade) -> bool:
    """An intern sees their own grade once it is released; graders see every grade."""
    if membership.course_id != grade.course_id:
        return False
    if can_grade(membership):
        return True
    return membership.role is Role.intern and membership.user_id == grade.intern_id and grade.is_released


def _membership(by: Membership | User, course_id: int) -> Membership:
    """Operations take the acting membership; a user is accepted and looked up in the course."""
    if isinstance(by, Membership):
        return by
    membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == by.id,
                                                               Membership.course_id == course_id))
    ensure(membership is not None)
    return membership


def _check_rubric(by: Membership | User, course_id: int) -> Membership:
    by = _membership(by, course_id)
    ensure(by.course_id == course_id and can_manage_rubric(by))
    return by


def _check_grader(by: Membership | User, course_id: int) -> Membership:
    by = _membership(by, course_id)
    ensure(by.course_id == course_id and can_grade(by))
    return by


# --- points ----------------------------------------------------------------------------------


def _points(value) -> Decimal:
    # Points are stored with two decimals and read back as float: sum them as decimals.
    return Decimal(str(value or 0)).quantize(CENT)


def rubric_of(course_id: int, *, create: bool = False) -> Rubric | None:
    rubric = db.session.scalar(queries.rubric_of(course_id))
    if rubric is None and create:
        rubric = Rubric(course_id=course_id, title="")
        db.session.add(rubric)
        db.session.flush()
    return rubric


def rubric_maximum(rubric: Rubric | None) -> Decimal:
    """The most a grade can reach: the best level of every criterion."""
    if rubric is None:
        return Decimal(0)
    return sum((max((_points(level.points) for level in c.levels), default=Decimal(0)) for c in rubric.criteria),
               Decimal(0))


def compute_score(grade: Grade, rubric: Rubric | None) -> tuple[float, float]:
    """(sum of the chosen levels' points, rubric maximum); a mark whose level is gone counts 0."""
    levels = {level.id: (criterion.id, level) for criterion in (rubric.criteria if rubric else [])
              for level in criterion.levels}
    score = Decimal(0)
    for mark in grade.marks:
        found = levels.get(mark.level_id)
        if found is not None and found[0] == mark.criterion_id:
            score += _points(found[1].points)
    return float(score), float(rubric_maximum(rubric))


def missing_criteria(grade: Grade, rubric: Rubric | None) -> list[Criterion]:
    """The rubric's criteria that have no level chosen in this grade."""
    chosen = {m.criterion_id for m in grade.marks if m.level_id is not None}
    return [c for c in (rubric.criteria if rubric else []) if c.id not in chosen]


def _rescore(grade: Grade, rubric: Rubric | None) -> bool:
    score, maximum = compute_score(grade, rubric)
    if (_points(grade.score), _points(grade.score_maximum)) == (_points(score), _points(maximum)):
        return False
    grade.score, grade.score_maximum = score, maximum
    return True


# --- the outbox row ---------------------------------------------------------------------------


def queue_delivery(grade: Grade) -> ScoreDelivery:
    """The released grade's score is due for the LMS now, with a timestamp newer than any before."""
    now = utcnow()
    delivery = grade.delivery
    if delivery is None:
        delivery = ScoreDelivery(course_id=grade.course_id, timestamp=now)
        grade.delivery = delivery
    else:
        delivery.timestamp = max(now, delivery.timestamp + ONE_MICROSECOND)
    delivery.state = DeliveryState.pending
    delivery.next_attempt_at = now
    delivery.attempts = 0
    delivery.score_given = grade.score
    delivery.score_maximum = grade.score_maximum
    delivery.comment = grade.comment or None
    delivery.last_error = delivery.last_status = None
    db.session.flush()
    return delivery


def _snapshot(grade: Grade) -> tuple:
    return _points(grade.score), _points(grade.score_maximum), grade.comment or ""


# --- rubric ------------------------------------------------------------------------------------


def _check_levels(title: str, levels: list[LevelData]) -> None:
    """The form checks the same rules; this keeps any other caller from storing a broken rubric."""
    if not (title or "").strip():
        raise InvalidRubric(_("A criterion needs a title."))
    if not levels:
        raise InvalidRubric(_("A criterion needs at least one level."))
    if len(levels) > MAX_LEVELS:
        raise InvalidRubric(_("A criterion has at most %(max)d levels.", max=MAX_LEVELS))
    for level in levels:
        if not (level.title or "").strip():
            raise InvalidRubric(_("Every level needs a title."))
        if level.points is None or not Decimal(level.points).is_finite() or not 0 <= level.points <= MAX_POINTS:
            raise InvalidRubric(_("Points are a number from 0 to %(max)s.", max=MAX_POINTS))


def _renumber(rubric: Rubric) -> None:
    for position, criterion in enumerate(rubric.criteria, start=1):
        criterion.position = position


def recompute_grades(course: Course, by: Membership, *, reason: str) -> int:
    """After a rubric change, every grade's score and maximum follow the rubric; a released grade
    whose score changes goes to the LMS again. Returns how many grades changed."""
    rubric = rubric_of(course.id)
    changed = 0
    for grade in db.session.scalars(queries.grades_of_course(course.id)):
        before = _snapshot(grade)
        if not _rescore(grade, rubric):
            continue
        changed += 1
        if grade.is_released:
            queue_delivery(grade)
        record_event("grade.rescored", actor=by.user, course=course, subject=grade, via="web", reason=reason,
                     score_before=float(before[0]), maximum_before=float(before[1]),
                     score=grade.score, maximum=grade.score_maximum, state=grade.state.value)
    db.session.flush()
    return changed


def _structural_change() -> None:
    # Bulk statements on marks leave loaded grades stale; reload everything after them.
    db.session.flush()
    db.session.expire_all()


def save_criterion(course: Course, criterion: Criterion | None, *, title: str, description: str = "",
                   levels: list[LevelData], by: Membership | User, via: str = "web") -> Criterion:
    """Advisors add a criterion at the end of the rubric, or change one: its texts and its levels
    in the order given. A removed level leaves the grades that chose it without a level there."""
    by = _check_rubric(by, course.id)
    _check_levels(title, levels)
    rubric = rubric_of(course.id, create=True)
    created = criterion is None
    if created:
        criterion = Criterion(title="", description="", position=len(rubric.criteria) + 1)
        rubric.criteria.append(criterion)
    else:
        ensure(criterion.rubric_id == rubric.id)
    criterion.title, criterion.description = title.strip(), (description or "").strip()
    existing = {level.id: level for level in criterion.levels}
    ordered = []
    for position, data in enumerate(levels, start=1):
        level = existing.pop(data.id, None) if data.id is not None else None
        if level is None:
            level = Level(title="", description="", points=0)
        level.title, level.description = data.title.strip(), (data.description or "").strip()
        level.points, level.position = float(_points(data.points)), position
        ordered.append(level)
    removed = list(existing.values())
    if removed:
        db.session.execute(sa.update(Mark).where(Mark.level_id.in_([level.id for level in removed]))
                           .values(level_id=None).execution_options(synchronize_session=False))
    criterion.levels = ordered  # delete-orphan removes the levels left out
    db.session.flush()
    record_event("rubric.criterion_created" if created else "rubric.criterion_updated", actor=by.user,
                 course=course, subject=criterion, via=via, title=criterion.title,
                 levels=[{"title": level.title, "points": level.points} for level in ordered],
                 removed_levels=[level.title for level in removed])
    criterion_id = criterion.id
    _structural_change()
    recompute_grades(course, by, reason="criterion saved")
    return db.session.get(Criterion, criterion_id)


def move_criterion(criterion: Criterion, direction: str, *, by: Membership | User, via: str = "web") -> bool:
    """A criterion swaps places with its neighbour; at either end nothing moves."""
    rubric = criterion.rubric
    by = _check_rubric(by, rubric.course_id)
    if direction not in ("up", "down"):
        raise ValueError(f"direction must be up or down, not {direction!r}")
    criteria = list(rubric.criteria)
    index = criteria.index(criterion)
    other = index + (-1 if direction == "up" else 1)
    if not 0 <= other < len(criteria):
        return False
    criteria[index], criteria[other] = criteria[other], criteria[index]
    for position, c in enumerate(criteria, start=1):
        c.position = position
    db.session.flush()
    db.session.expire(rubric, ["criteria"])
    record_event("rubric.criterion_moved", by=by, subject=criterion, via=via,
                 direction=direction, position=criterion.position)
    return True


def delete_criterion(criterion: Criterion, *, by: Membership | User, via: str = "web") -> None:
    """A criterion leaves the rubric with the marks given on it; grades are scored again."""
    rubric = criterion.rubric
    course = db.session.get(Course, rubric.course_id)
    by = _check_rubric(by, course.id)
    marks = db.session.execute(sa.delete(Mark).where(Mark.criterion_id == criterion.id)
                               .execution_options(synchronize_session=False)).rowcount
    record_event("rubric.criterion_deleted", actor=by.user, course=course, subject=criterion, via=via,
                 title=criterion.title, marks_removed=marks)
    rubric.criteria.remove(criterion)
    _renumber(rubric)
    _structural_change()
    recompute_grades(course, by, reason="criterion deleted")


def copy_rubric(source: Course, course: Course, *, by: Membership | User, replace: bool = False,
                via: str = "web") -> int:
    """An advisor copies the rubric of another course of the platform where they also advise.
    It fills an empty rubric; replacing one needs ``replace`` and is refused once the course has
    grades (their marks would be lost). Returns how many criteria were copied."""
    by = _check_rubric(by, course.id)
    ensure(source.platform_id == course.platform_id and source.id != course.id)
    ensure(db.session.scalar(queries.copy_source(course, by.user_id, source.id)) is not None)
    original = rubric_of(source.id)
    if original is None or not original.criteria:
        raise InvalidTransition(_("%(course)s has no rubric to copy.", course=source.display_title))
    rubric = rubric_of(course.id, create=True)
    replaced = len(rubric.criteria)
    if replaced:
        if not replace:
            raise InvalidTransition(_("This course already has a rubric; confirm to replace it."))
        if db.session.scalar(queries.grade_count(course.id)):
            raise InvalidTransition(_("This course already has grades, so its rubric cannot be replaced. "
                                      "Edit its criteria instead."))
        rubric.criteria.clear()
        db.session.flush()
    for position, c in enumerate(original.criteria, start=1):
        rubric.criteria.append(Criterion(
            title=c.title, description=c.description, position=position,
            levels=[Level(title=level.title, description=level.description, points=level.points,
                          position=level.position) for level in c.levels]))
    rubric.title = original.title
    db.session.flush()
    record_event("rubric.copied", actor=by.user, course=course, subject=rubric, via=via, source_course_id=source.id,
                 criteria=len(original.criteria), replaced_criteria=replaced)
    _structural_change()
    recompute_grades(course, by, reason="rubric copied")
    return len(original.criteria)


# --- grades ---------------------------------------------------------------------------------------


def grade_of(course_id: int, intern_id: int) -> Grade | None:
    return db.session.scalar(queries.grade_of(course_id, intern_id))


_UNREAD = object()  # an argument the caller has not read: the operation reads it


def save_grade(course: Course, intern_id: int, *, levels: dict[int, int | None], feedback: dict[int, str] | None = None,
               comment: str = "", by: Membership | User, via: str = "web", rubric=_UNREAD, grade=_UNREAD) -> Grade:
    """An advisor keeps a grade of an intern's portfolio: a level (or none yet) and feedback per
    criterion, and an overall comment. A new grade is a draft; a released one stays released and,
    when its score or comment changes, goes to the LMS again. ``rubric`` and ``grade``: the
    course's rubric and the intern's grade (None: none yet) as the caller has just read them
    (``rubric_of``, ``grade_of``), so that they are not read twice."""
    by = _check_grader(by, course.id)
    intern = db.session.scalar(queries.intern_of(course.id, intern_id))
    ensure(intern is not None)
    rubric = rubric_of(course.id) if rubric is _UNREAD else rubric
    if rubric is None or not rubric.criteria:
        raise InvalidTransition(_("The course has no rubric yet: add its criteria first."))
    criteria = {c.id: c for c in rubric.criteria}
    feedback = feedback or {}
    for criterion_id, level_id in levels.items():
        if criterion_id not in criteria:
            raise InvalidGrade(_("That criterion is not part of the rubric any more. Reload the page."))
        if level_id is not None and level_id not in {level.id for level in criteria[criterion_id].levels}:
            raise InvalidGrade(_("That level is not part of the rubric any more. Reload the page."))
    grade = grade_of(course.id, intern_id) if grade is _UNREAD else grade
    created = grade is None
    if created:
        grade = Grade(course_id=course.id, intern_id=intern_id, state=GradeState.draft, score=0, score_maximum=0,
                      comment="")
        try:
            with db.session.begin_nested():  # another advisor may start the same grade at the same moment
                db.session.add(grade)
        except IntegrityError as error:
            raise Conflict() from error
    before = _snapshot(grade)
    marks = {m.criterion_id: m for m in grade.marks}
    for criterion_id in criteria:
        level_id = levels.get(criterion_id)
        text = (feedback.get(criterion_id) or "").strip()
        mark = marks.get(criterion_id)
        if mark is None:
            if level_id is None and not text:
                continue
            mark = Mark(criterion_id=criterion_id)
            grade.marks.append(mark)
        mark.level_id, mark.feedback = level_id, text
    grade.comment = (comment or "").strip()
    grade.graded_by_id = by.user_id
    db.session.flush()
    _rescore(grade, rubric)
    changed = _snapshot(grade) != before
    if grade.is_released and changed:
        queue_delivery(grade)
    db.session.flush()
    record_event("grade.saved", actor=by.user, course=course, subject=grade, via=via, state=grade.state.value,
                 score=grade.score, maximum=grade.score_maximum, created=created,
                 levels={str(k): v for k, v in sorted(levels.items())})
    return grade


def release_grade(grade: Grade, by: Membership | User, *, via: str = "web") -> ScoreDelivery:
    """A complete draft becomes visible to the intern and is queued for the LMS gradebook."""
    by = _check_grader(by, grade.course_id)
    if grade.is_released:
        raise InvalidTransition(_("This grade is already released."))
    rubric = rubric_of(grade.course_id)
    if rubric is None or not rubric.criteria:
        raise InvalidTransition(_("The course has no rubric yet: add its criteria first."))
    missing = missing_criteria(grade, rubric)
    if missing:
        raise InvalidTransition(_("Choose a level for every criterion before releasing. Missing: %(criteria)s.",
                                  criteria=", ".join(c.title for c in missing)))
    _rescore(grade, rubric)
    if grade.score_maximum <= 0:
        raise InvalidTransition(_("The rubric's maximum is 0 points: give its levels points before releasing."))
    grade.state = GradeState.released
    grade.released_at = utcnow()
    grade.released_by_id = by.user_id
    delivery = queue_delivery(grade)
    record_event("grade.released", by=by, subject=grade, via=via, score=grade.score,
                 maximum=grade.score_maximum, timestamp=delivery.timestamp.isoformat())
    return delivery


def release_all(course: Course, by: Membership | User, *, via: str = "web") -> list[Grade]:
    """Every complete draft of the course is released at once; incomplete ones stay drafts."""
    by = _check_grader(by, course.id)
    rubric = rubric_of(course.id)
    released = []
    for grade in db.session.scalars(queries.drafts_of_course(course.id)).all():
        if rubric is None or missing_criteria(grade, rubric) or rubric_maximum(rubric) <= 0:
            continue
        release_grade(grade, by, via=via)
        released.append(grade)
    return released


def retry_delivery(grade: Grade, by: Membership | User, *, via: str = "web") -> ScoreDelivery:
    """A failed (or waiting) score is tried again now, with a fresh count of attempts."""
    by = _check_grader(by, grade.course_id)
    delivery = grade.delivery
    if delivery is None or not grade.is_released:
        raise InvalidTransition(_("This grade has not been released, so there is nothing to send."))
    if delivery.state not in (DeliveryState.failed, DeliveryState.pending):
        raise InvalidTransition(_("This score is being sent right now.") if delivery.state is DeliveryState.sending
                                else _("The LMS already has this score."))
    previous = delivery.state.value
    delivery.state = DeliveryState.pending
    delivery.next_attempt_at = utcnow()
    delivery.attempts = 0
    db.session.flush()
    record_event("grade.delivery_retried", by=by, subject=grade, via=via,
                 previous_state=previous, last_status=delivery.last_status, last_error=delivery.last_error)
    return delivery
