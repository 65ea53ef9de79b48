"""Every model of the application, imported once so the metadata is complete."""

from portfolio.audit.models import AuditEvent
from portfolio.evidence.models import Evidence
from portfolio.journal.models import Entry, EntryState, Task
from portfolio.objectives.models import Objective
from portfolio.people.models import Course, Membership, Role, User
from portfolio.placements.models import Placement

__all__ = ["AuditEvent", "Course", "Entry", "EntryState", "Evidence", "Membership", "Objective", "Placement",
           "Role", "Task", "User"]
