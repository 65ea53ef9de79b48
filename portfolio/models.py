"""Every model of the application, imported once so the metadata is complete."""

from portfolio.audit.models import AuditEvent
from portfolio.cohort import standing  # noqa: F401  (its listener marks the dashboard's figures out of date)
from portfolio.cohort.models import InternStanding
from portfolio.evidence.models import Evidence
from portfolio.export.models import Export, ExportJob
from portfolio.grading.models import Criterion, Grade, GradeState, Level, Mark, Rubric, ScoreDelivery
from portfolio.journal.models import Entry, EntryState, Task
from portfolio.notify.models import OutboxMessage, OutboxState
from portfolio.objectives.models import Objective
from portfolio.people.models import Course, Membership, Role, User
from portfolio.placements.models import Placement
from portfolio.privacy.models import CourseArchive, CourseRetention, PrivacyAcknowledgement
from portfolio.signoff.models import Decision, DecisionKind, SignInLink, Supervision

__all__ = ["AuditEvent", "Course", "CourseArchive", "CourseRetention", "Criterion", "Decision",
           "DecisionKind", "Entry", "EntryState", "Evidence", "Export", "ExportJob", "Grade", "GradeState",
           "InternStanding", "Level", "Mark", "Membership", "Objective", "OutboxMessage", "OutboxState", "Placement",
           "PrivacyAcknowledgement", "Role", "Rubric", "ScoreDelivery", "SignInLink", "Supervision", "Task",
           "User"]
