"""Portfolios to export, written straight into the database (the journal's own tests
cover how they get there through the pages). Used by the tests and by bench/pdf.py."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import date, timedelta  # noqa: F401  (date: used by tests through this module)
from decimal import Decimal
from pathlib import Path

from PIL import Image

from portfolio.db import db, utcnow
from portfolio.evidence import storage
from portfolio.evidence.models import Evidence
from portfolio.grading.models import Criterion, Grade, GradeState, Level, Mark, Rubric
from portfolio.journal.models import Entry, EntryState, Task
from portfolio.objectives.models import Objective
from portfolio.people.models import Course, Membership, Role, User
from portfolio.placements.models import Placement
from portfolio.signoff.models import Decision, DecisionKind, Supervision
from portfolio.text import render_markdown

_counter = iter(range(1, 1_000_000))


@dataclass
class Built:
    course_id: int
    intern_id: int
    advisor_id: int
    supervisor_id: int
    weeks: list[date] = field(default_factory=list)
    entry_ids: list[int] = field(default_factory=list)


def photo(width: int = 64, height: int = 48, colour=(200, 80, 40)) -> bytes:
    """A JPEG with an EXIF block (which the export must drop)."""
    image = Image.new("RGB", (width, height), colour)
    for x in range(0, width, 8):  # some structure, so the JPEG is not trivially small
        for y in range(0, height, 8):
            image.putpixel((x, y), (x % 255, y % 255, (x * y) % 255))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def add_evidence(entry: Entry, name: str, data: bytes, content_type: str, stored_name: str | None = None) -> Evidence:
    stored = stored_name or storage.save(data)
    evidence = Evidence(entry=entry, original_name=name, stored_name=stored, content_type=content_type,
                        size=len(data), sha256=hashlib.sha256(data).hexdigest())
    db.session.add(evidence)
    return evidence


def course_with_people(intern_name="Amara Okafor", locale="en", course_title="Internship 2027",
                       host="Example GmbH", supervisor_name="Claire Dubois", advisor_name="Helen Schmidt",
                       course_id: int | None = None) -> tuple[Course, User, User, User]:
    from lti.operations import register_platform

    n = next(_counter)
    if course_id is None:
        platform, _ = register_platform(
            issuer=f"https://export{n}.example", client_id="tool", auth_login_url=f"https://export{n}.example/auth",
            auth_token_url=f"https://export{n}.example/token", key_set_url=f"https://export{n}.example/jwks",
            deployment_ids=["1"])
        course = Course(platform_id=platform.id, deployment_id=platform.deployments[0].id, context_id=f"x-{n}",
                        title=course_title)
        db.session.add(course)
        advisor = User(platform_id=platform.id, lti_sub=f"adv-{n}", name=advisor_name, locale="en")
        db.session.add_all([advisor, Membership(user=advisor, course=course, role=Role.advisor)])
    else:
        course = db.session.get(Course, course_id)
        advisor = db.session.scalar(db.select(User).join(Membership).where(
            Membership.course_id == course_id, Membership.role == Role.advisor))
    intern = User(platform_id=course.platform_id, lti_sub=f"int-{n}", name=intern_name, locale=locale)
    supervisor = User(platform_id=None, name=supervisor_name, email=f"sup{n}@host.example", locale="en")
    db.session.add_all([intern, supervisor, Membership(user=intern, course=course, role=Role.intern),
                        Membership(user=supervisor, course=course, role=Role.supervisor)])
    db.session.flush()
    db.session.add(Supervision(course_id=course.id, intern_id=intern.id, supervisor_id=supervisor.id))
    db.session.add(Placement(course_id=course.id, intern_id=intern.id, host_organisation=host, country="DE",
                             city="Berlin", start_date=date(2027, 3, 1), end_date=date(2027, 3, 1) + timedelta(weeks=60),
                             hours_per_week=Decimal("38"), timezone="Europe/Berlin", work_language="en"))
    db.session.flush()
    return course, intern, supervisor, advisor


def objectives(course: Course, count: int = 3) -> list[Objective]:
    existing = list(db.session.scalars(db.select(Objective).where(Objective.course_id == course.id)
                                       .order_by(Objective.position)))
    if existing:
        return existing
    made = [Objective(course_id=course.id, code=f"LO{i + 1}", title=f"Objective number {i + 1}", target=2,
                      position=i) for i in range(count)]
    db.session.add_all(made)
    db.session.flush()
    return made


def week_entry(course: Course, intern: User, week: date, *, state: EntryState, reflection: str,
               tasks: list[tuple[str, str, list[Objective]]], revision: int = 1, decided_by: User | None = None,
               content_hash: str = "ab" * 32) -> Entry:
    entry = Entry(course_id=course.id, intern_id=intern.id, week_start=week, state=state, revision=revision,
                  reflection=reflection, reflection_html=render_markdown(reflection),
                  submitted_at=None if state is EntryState.draft else utcnow(), submissions=0 if state is EntryState.draft else 1)
    for position, (description, hours, objs) in enumerate(tasks):
        task = Task(position=position, description=description, hours=Decimal(hours))
        task.objectives = list(objs)
        entry.tasks.append(task)
    db.session.add(entry)
    db.session.flush()
    if decided_by is not None and state in (EntryState.approved, EntryState.changes_requested):
        kind = DecisionKind.approved if state is EntryState.approved else DecisionKind.changes_requested
        db.session.add(Decision(entry_id=entry.id, submission=1, kind=kind, decided_by_id=decided_by.id,
                                decided_by_name=decided_by.display_name, content_hash=content_hash, via="link",
                                comment="Good work" if kind is DecisionKind.approved else "Please add detail"))
        db.session.flush()
    return entry


def release_grade(course: Course, intern: User, advisor: User) -> Grade:
    rubric = Rubric(course_id=course.id, title="Internship rubric")
    criterion = Criterion(title="Professional conduct", position=0)
    good = Level(title="Excellent", points=10, position=0)
    criterion.levels = [good, Level(title="Adequate", points=5, position=1)]
    rubric.criteria = [criterion]
    db.session.add(rubric)
    db.session.flush()
    grade = Grade(course_id=course.id, intern_id=intern.id, state=GradeState.released, score=10, score_maximum=10,
                  comment="A remarkable internship", graded_by_id=advisor.id, released_by_id=advisor.id,
                  released_at=utcnow())
    grade.marks = [Mark(criterion_id=criterion.id, level_id=good.id, feedback="Always punctual and thorough")]
    db.session.add(grade)
    db.session.flush()
    return grade


def standard_portfolio(grade: bool = True, **people) -> Built:
    """Four weeks: approved (with a photo and a PDF), an older approved revision under a
    newer draft, submitted, and sent back; a released grade."""
    course, intern, supervisor, advisor = course_with_people(**people)
    los = objectives(course)
    built = Built(course.id, intern.id, advisor.id, supervisor.id)
    w1, w2, w3, w4 = (date(2027, 3, 1) + timedelta(weeks=i) for i in range(4))
    e1 = week_entry(course, intern, w1, state=EntryState.approved, reflection="Approvedreflection alpha",
                    tasks=[("Prepared the workshop", "7.5", [los[0]]), ("Wrote the report", "2", [los[0], los[1]])],
                    decided_by=supervisor, content_hash="c0ffee" + "0" * 58)
    add_evidence(e1, "workshop-photo.jpg", photo(), "image/jpeg")
    add_evidence(e1, "minutes.pdf", b"%PDF-1.4 fake minutes" * 50, "application/pdf")
    week_entry(course, intern, w2, state=EntryState.approved, reflection="Oldapproved revision bravo",
               tasks=[("Met the clients", "4", [los[1]])], decided_by=supervisor)
    week_entry(course, intern, w2, state=EntryState.draft, revision=2, reflection="Newdraft revision charlie",
               tasks=[("Met the clients again", "5", [los[1]])])
    week_entry(course, intern, w3, state=EntryState.submitted, reflection="Submittedreflection delta",
               tasks=[("Tested the prototype", "6", [los[2]])])
    week_entry(course, intern, w4, state=EntryState.changes_requested, reflection="Sentback reflection echo",
               tasks=[("Planned the launch", "3", [])], decided_by=supervisor)
    if grade:
        release_grade(course, intern, advisor)
    built.weeks = [w1, w2, w3, w4]
    return built


def pdftotext(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        return subprocess.run([shutil.which("pdftotext") or "pdftotext", "-enc", "UTF-8", str(path), "-"],
                              check=True, capture_output=True, timeout=60).stdout.decode()


def pdftotext_page(pdf: bytes, number: int) -> str:
    """The text of one page (1-based)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        return subprocess.run(["pdftotext", "-enc", "UTF-8", "-f", str(number), "-l", str(number), str(path), "-"],
                              check=True, capture_output=True, timeout=60).stdout.decode()
