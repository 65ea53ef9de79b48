"""axe-core on every main page of the tool, as each role sees it inside the LMS frame,
and on the sandbox LMS's own pages: no serious or critical violation anywhere. The
course is the demo course, so the pages show weeks in every state, grades and evidence.

Also: the timeline and the coverage heatmap never rely on colour alone."""

from __future__ import annotations

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE
from tests.browser.journey import Actor, choose_language, launch


def ids(app, course_id: int) -> dict:
    from portfolio.db import db
    from portfolio.journal.models import Entry, EntryState
    from portfolio.people.models import Membership, Role, User

    with app.app_context():
        intern = db.session.scalar(sa.select(User).join(Membership).where(
            Membership.course_id == course_id, Membership.role == Role.intern, User.name == "Amara Okafor"))
        entry = db.session.scalar(sa.select(Entry).where(Entry.course_id == course_id, Entry.intern_id == intern.id,
                                                         Entry.state == EntryState.submitted).order_by(Entry.id))
        return {"intern": intern.id, "entry": entry.id, "week": entry.week_start.isoformat()}


def visit(actor: Actor, frame, url: str, name: str) -> None:
    response = frame.goto(url)
    assert response is not None and response.status < 400, f"{name}: {url} answered {response and response.status}"
    actor.check_a11y(frame, name)
    actor.shot(name)


def test_every_main_page_has_no_serious_violation(app, demo, browser, sites, shots, axe_log):
    """On a desktop viewport; the journey checks its pages on a phone as well."""
    viewport = DESKTOP
    contexts = []

    def new_page():
        """Each person in their own browser: their own cookies."""
        context = browser.new_context(viewport=viewport, is_mobile=viewport == PHONE, timezone_id="Europe/Berlin")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    try:
        lms = sites["lms"]
        advisor = Actor("advisor", new_page(), sites, shots, axe_log)
        tool = advisor_frame = launch(advisor, "helen")
        choose_language(tool, "en")  # her LMS says German; the assertions below read English
        course = re.search(r"/c/(\d+)/", tool.url).group(1)
        base = f"{sites['tool']}/c/{course}"
        found = ids(app, int(course))
        for path, name in [
            ("/", "advisor home"), ("/cohort", "cohort dashboard"), ("/placements", "interns and placements"),
            ("/review", "advisor review queue"), ("/grades", "grades"), ("/rubric", "rubric"),
            ("/objectives", "objectives"), ("/objectives/new", "objective form"), ("/objectives/import", "objectives import"),
            ("/objectives/copy", "objectives copy"), ("/preferences", "preferences"),
            (f"/interns/{found['intern']}/journal", "journal of an intern"),
            (f"/entries/{found['entry']}", "entry"),
            (f"/interns/{found['intern']}/audit", "audit trail"),
            (f"/interns/{found['intern']}/supervisor", "supervisor of an intern"),
            (f"/grades/{found['intern']}", "grade form"),
            (f"/placements/{found['intern']}/edit", "placement of an intern"),
            ("/privacy", "privacy notice"),
        ]:
            visit(advisor, tool, base + path, name)

        intern = Actor("intern", new_page(), sites, shots, axe_log)
        tool = launch(intern, "amara")
        for path, name in [
            ("/journal", "intern journal home"), (f"/journal/weeks/{found['week']}", "week (submitted)"),
            ("/placement", "intern placement"), ("/supervisor", "intern supervisor"), ("/grade", "intern grade"),
            ("/objectives", "intern objectives"), ("/preferences", "intern preferences"),
        ]:
            visit(intern, tool, base + path, name)
        # The timeline: every week says its state in words, not by colour alone.
        tool.goto(base + "/journal")
        weeks = tool.locator("ol.timeline > li")
        assert weeks.count() > 5
        words = {}
        for week in weeks.all():
            state = re.search(r"\bweek-(\w+)", week.get_attribute("class")).group(1)
            text = week.locator(".badge").inner_text().strip()
            assert re.search(r"\w{3,}", text), f"week in state {state} says it only by colour: {text!r}"
            words.setdefault(state, set()).add(text)
        assert len(words) >= 4, words  # the demo has weeks in every state
        assert all(len(texts) == 1 for texts in words.values()), words
        assert len({next(iter(t)) for t in words.values()}) == len(words), f"two states, one word: {words}"

        # The heatmap: every cell carries its number and what it counts.
        advisor_frame.goto(base + "/cohort")
        cells = advisor_frame.locator("table.heatmap tbody td")
        assert cells.count() >= 5
        for cell in cells.all():
            expect(cell).to_have_text(re.compile(r"^\d+ tasks? for \S+, target \d+$"))

        lms_page = Actor("lms", new_page(), sites, shots, axe_log)
        for url, name in [(f"{lms}/sandbox/", "sandbox course"), (f"{lms}/sandbox/launch/moodle/wei", "sandbox launch page"),
                          (f"{lms}/sandbox/mailbox", "sandbox mailbox"), (f"{lms}/sandbox/gradebook", "sandbox gradebook"),
                          (f"{lms}/sandbox/registered", "sandbox registered tools"),
                          (f"{sites['tool']}/signin", "supervisor asks for a link"),
                          (f"{sites['tool']}/privacy", "public privacy notice"), (f"{sites['tool']}/", "tool index")]:
            visit(lms_page, lms_page.page.main_frame, url, name)
    finally:
        for context in contexts:
            context.close()
