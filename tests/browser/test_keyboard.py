"""The intern's whole journey with the keyboard alone, inside the LMS frame: Tab to
reach things, Enter and Space to use them, typing to fill them. On every stop the focus
is visibly marked, and invalid forms announce their errors (role="alert", tied to
their fields by aria-describedby, the fields marked aria-invalid)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Frame, Page, expect

from tests.browser.conftest import DESKTOP
from tests.browser.journey import COURSE_HOME, Actor, acknowledge_privacy_notice, go, supervisor_signs_in

FOCUSED = """() => {
  if (!document.hasFocus()) return null;
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const label = el.getAttribute('aria-label') || (el.labels && el.labels.length ? el.labels[0].textContent : '')
                || el.textContent || el.value || '';
  const style = getComputedStyle(el);
  return {tag: el.tagName.toLowerCase(), id: el.id, label: label.trim().replace(/\\s+/g, ' '),
          outline: style.outlineStyle, outlineWidth: parseFloat(style.outlineWidth) || 0, shadow: style.boxShadow,
          visible: el.getBoundingClientRect().width > 0};
}"""


class Keyboard:
    """Tab through the tool's frame; every focused element must show that it has the focus."""

    def __init__(self, page: Page, frame: Frame):
        self.page, self.frame = page, frame
        self.stops = 0

    def focused(self) -> dict | None:
        return self.frame.evaluate(FOCUSED)

    def tab_to(self, label: str | re.Pattern, limit: int = 80, backwards: bool = False) -> dict:
        for _ in range(limit):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            el = self.focused()
            if el is None:
                continue
            self.stops += 1
            assert el["visible"], f"focus on an invisible element: {el}"
            assert (el["outline"] != "none" and el["outlineWidth"] >= 2) or el["shadow"] != "none", \
                f"no visible focus on {el}"
            matched = label.search(el["label"]) if isinstance(label, re.Pattern) else el["label"] == label
            if matched:
                return el
        raise AssertionError(f"Tab never reached {label!r}")

    def press(self, key: str, navigates: bool = True) -> None:
        if navigates:
            with self.frame.expect_navigation():
                self.page.keyboard.press(key)
        else:
            self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)


def seed_objectives(app, frame) -> None:
    from portfolio.db import db
    from portfolio.demo import _objectives
    from portfolio.people.models import Course

    with app.app_context():
        _objectives(db.session.get(Course, int(re.search(r"/c/(\d+)/", frame.url).group(1))))
        db.session.commit()


def expect_announced_error(frame: Frame, field_id: str, message: str) -> None:
    field = frame.locator(f"#{field_id}")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_accessible_description(re.compile(re.escape(message)))
    expect(frame.locator(f"#{field_id}-error")).to_have_attribute("role", "alert")


def test_intern_journey_with_the_keyboard_alone(app, browser, sites, shots, axe_log):
    context = browser.new_context(viewport=DESKTOP, timezone_id="Pacific/Auckland", locale="en-US")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        # Playwright turns on file-chooser interception, in every frame's renderer, only
        # when the first listener is added, and without waiting for it. Listening from
        # the start means the tool's frame is intercepted when it loads, so the Space
        # that opens the chooser later cannot arrive before the interception does.
        page.on("filechooser", lambda chooser: None)
        intern = Actor("intern", page, sites, shots, axe_log)
        page.goto(f"{sites['lms']}/sandbox/launch/moodle/amara")
        frame = page.wait_for_selector("iframe.lms-frame").content_frame()
        frame.wait_for_url(COURSE_HOME)
        acknowledge_privacy_notice(frame)
        seed_objectives(app, frame)
        keys = Keyboard(page, frame)

        # From the LMS page into the tool: the first stop is the skip link, which shows.
        keys.tab_to("Skip to content")
        intern.shot("skip-link")
        keys.press("Enter", navigates=False)

        keys.tab_to("Set up my placement")
        keys.press("Enter")
        # Saved with nothing typed: each error is next to its field and announced.
        keys.tab_to("Save placement")
        keys.press("Enter")
        expect_announced_error(frame, "host_organisation", "This field is required.")
        intern.shot("placement-errors")
        keys.tab_to(re.compile("^Host organisation"), backwards=True)
        keys.type("Kiwi Design Studio")
        keys.tab_to(re.compile("^Country"))
        keys.type("New Zealand")
        keys.tab_to(re.compile("^City"))
        keys.type("Auckland")
        start, end = date.today() - timedelta(days=14), date.today() + timedelta(days=60)
        keys.tab_to(re.compile("^First day"))
        keys.type(start.strftime("%m%d%Y"))
        keys.tab_to(re.compile("^Last day"))
        keys.type(end.strftime("%m%d%Y"))
        keys.tab_to(re.compile("^Expected hours per week"))
        keys.type("38")
        keys.tab_to(re.compile("^Language of work"))
        keys.type("English")
        intern.shot("placement-typed")
        keys.tab_to("Save placement")
        keys.press("Enter")
        expect(frame.locator("p.placement-summary")).to_contain_text("Kiwi Design Studio")
        expect(frame.locator("p.placement-summary")).to_contain_text("Pacific/Auckland")

        keys.tab_to("My supervisor")
        keys.press("Enter")
        keys.tab_to(re.compile("^Supervisor's name"))
        keys.type("Mere Parata")
        keys.tab_to(re.compile("^Supervisor's email"))
        keys.type("not an address")
        keys.tab_to("Send the invitation")
        keys.press("Enter")
        expect_announced_error(frame, "email", "email")
        expect(frame.locator("#name")).to_have_value("Mere Parata")  # nothing typed is lost
        keys.tab_to(re.compile("^Supervisor's email"), backwards=True)
        keys.page.keyboard.press("Control+A")
        keys.type("mere.parata@kiwi-design.example")
        keys.tab_to("Send the invitation")
        keys.press("Enter")
        expect(frame.get_by_text("mere.parata@kiwi-design.example", exact=True)).to_be_visible()

        keys.tab_to("My journal")
        keys.press("Enter")
        this_week = frame.locator("li.week-current a").first.inner_text().strip()
        keys.tab_to(this_week)
        keys.press("Enter")
        # Submitted empty: the error summary takes the focus and is announced.
        keys.tab_to("Submit for sign-off")
        keys.press("Enter")
        summary = frame.locator("#error-summary")
        expect(summary).to_have_attribute("role", "alert")
        expect(summary).to_be_focused()
        expect_announced_error(frame, "reflection", "Write a reflection on the week.")
        intern.shot("week-errors")
        keys.tab_to(re.compile("^Reflection"))
        keys.type("I ran my first client workshop.")
        keys.tab_to(re.compile("^What did you do"))
        keys.type("Prepared the client workshop and its slides")
        keys.tab_to(re.compile("^Hours"))
        keys.type("7.5")
        keys.tab_to(re.compile("^COM1"))
        keys.press("Space", navigates=False)
        expect(frame.get_by_role("checkbox", name=re.compile("^COM1"))).to_be_checked()
        keys.tab_to("Save draft")
        keys.press("Enter")
        keys.tab_to("Attach a file")
        with page.expect_file_chooser() as chooser:
            keys.press("Space", navigates=False)
        chooser.value.set_files({"name": "notes.txt", "mimeType": "text/plain", "buffer": b"Workshop notes\n"})
        keys.tab_to("Attach")
        keys.press("Enter")
        expect(frame.get_by_role("link", name="notes.txt")).to_be_visible()
        keys.tab_to("Submit for sign-off", backwards=True)
        keys.press("Enter")
        expect(frame.locator("h1 .badge")).to_contain_text("submitted")
        intern.shot("week-submitted")

        # The supervisor (with a mouse, in their own browser) sends the week back.
        supervisor_context = browser.new_context(viewport=DESKTOP)
        try:
            review = supervisor_signs_in(Actor("supervisor", supervisor_context.new_page(), sites, shots, axe_log))
            review.get_by_label("Comment for the intern").fill("Add what the client said.")
            go(review.main_frame, review.get_by_role("button", name="Send back"))
        finally:
            supervisor_context.close()

        # The intern revises and resubmits.
        keys.tab_to("My journal", backwards=True)
        keys.press("Enter")
        keys.tab_to(this_week)
        keys.press("Enter")
        expect(frame.get_by_text("Add what the client said.")).to_be_visible()
        keys.tab_to(re.compile("^Reflection"))
        keys.page.keyboard.press("End")
        keys.type(" The client asked for fewer words per slide.")
        keys.tab_to("Submit for sign-off")
        keys.press("Enter")
        expect(frame.locator("h1 .badge")).to_contain_text("submitted")
        expect(frame.locator("main")).to_contain_text("fewer words per slide")

        # ... and downloads the portfolio as a PDF.
        keys.tab_to("PDF export", backwards=True)
        keys.press("Enter")
        keys.tab_to("Make the PDF")
        keys.press("Enter")
        expect(frame.get_by_role("link", name="Download the PDF")).to_be_visible(timeout=90_000)
        keys.tab_to("Download the PDF")
        with page.expect_download() as download:
            keys.press("Enter", navigates=False)
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
        intern.shot("pdf-downloaded")
        assert keys.stops > 30
    finally:
        context.close()
