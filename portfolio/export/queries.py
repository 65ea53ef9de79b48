from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portfolio.evidence.models import Evidence
from portfolio.export.models import Export, ExportJob, JobKind, JobState
from portfolio.grading.models import Criterion, Grade, GradeState, Mark, Rubric
from portfolio.journal.models import Entry, Task
from portfolio.objectives.models import Objective
from portfolio.people.models import Membership, Role, User
from portfolio.signoff.models import Decision, Supervision


def entries_of(course_id: int, intern_id: int) -> sa.Select:
    """Every revision of every week, newest revision first within a week, with tasks and evidence."""
    return (sa.select(Entry).where(Entry.course_id == course_id, Entry.intern_id == intern_id)
            .options(selectinload(Entry.tasks).selectinload(Task.objectives), selectinload(Entry.evidence))
            .order_by(Entry.week_start, Entry.revision.desc()))


def latest_decisions(entry_ids: list[int]) -> sa.Select:
    return (sa.select(Decision).where(Decision.entry_id.in_(entry_ids or [-1]))
            .order_by(Decision.entry_id, Decision.decided_at.desc(), Decision.id.desc()))


def objectives_of(course_id: int) -> sa.Select:
    return sa.select(Objective).where(Objective.course_id == course_id).order_by(Objective.position, Objective.code)


def current_supervisor(course_id: int, intern_id: int) -> sa.Select:
    return (sa.select(User).join(Supervision, Supervision.supervisor_id == User.id)
            .where(Supervision.course_id == course_id, Supervision.intern_id == intern_id,
                   Supervision.ended_at.is_(None))
            .order_by(Supervision.created_at.desc(), Supervision.id.desc()).limit(1))


def advisors_of(course_id: int) -> sa.Select:
    return (sa.select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.course_id == course_id, Membership.role == Role.advisor).order_by(User.name, User.id))


def interns_of(course_id: int) -> sa.Select:
    return (sa.select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.course_id == course_id, Membership.role == Role.intern).order_by(User.name, User.id))


def intern_membership(course_id: int, intern_id: int) -> sa.Select:
    return sa.select(Membership).where(Membership.course_id == course_id, Membership.user_id == intern_id,
                                       Membership.role == Role.intern)


def released_grade(course_id: int, intern_id: int) -> sa.Select:
    return (sa.select(Grade).where(Grade.course_id == course_id, Grade.intern_id == intern_id,
                                   Grade.state == GradeState.released)
            .options(selectinload(Grade.marks).selectinload(Mark.level)))


def rubric_of(course_id: int) -> sa.Select:
    return (sa.select(Rubric).where(Rubric.course_id == course_id)
            .options(selectinload(Rubric.criteria).selectinload(Criterion.levels)))


def export_by_hash(content_hash: str) -> sa.Select:
    return sa.select(Export).where(Export.content_hash == content_hash)


def export_by_code(code: str) -> sa.Select:
    return sa.select(Export).where(Export.verification_code == code)


def job_in_course(course_id: int, job_id: int) -> sa.Select:
    return sa.select(ExportJob).where(ExportJob.id == job_id, ExportJob.course_id == course_id)


def done_cohort_job(course_id: int, content_hash: str) -> sa.Select:
    return (sa.select(ExportJob).where(ExportJob.course_id == course_id, ExportJob.kind == JobKind.cohort,
                                       ExportJob.state == JobState.done, ExportJob.content_hash == content_hash,
                                       ExportJob.file_name.is_not(None))
            .order_by(ExportJob.id.desc()).limit(1))


def evidence_of(entry_ids: list[int]) -> sa.Select:
    return sa.select(Evidence).where(Evidence.entry_id.in_(entry_ids or [-1])).order_by(Evidence.entry_id, Evidence.id)
