"""The people of the end-to-end journey, each in their own browser context, and the
steps they take through the sandbox LMS and the tool."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from playwright.sync_api import Frame, Page, expect

from tests.browser.conftest import AxeLog, Shots, wait_until

COURSE_HOME = re.compile(r"/c/\d+/")


@dataclass
class Actor:
    """One person's browser: a context with their own cookies, viewport and time zone."""

    name: str
    page: Page
    sites: dict
    shots: Shots
    axe: AxeLog
    checked: set = field(default_factory=set)

    def shot(self, step: str, target: Page | None = None):
        self.shots(target or self.page, f"{self.name}-{step}")

    def check_a11y(self, target: Page | Frame, name: str) -> None:
        """axe-core on ``target``, once per page name per test: no serious or critical violation."""
        if name in self.checked:
            return
        self.checked.add(name)
        blocking = self.axe.check(target, name)
        assert not blocking, f"axe on {name} ({target.url}): {blocking}"


def launch(actor: Actor, person_key: str, shape: str = "moodle") -> Frame:
    """Open the tool from the sandbox LMS: the LMS page at one origin, the tool in its
    iframe at the other. Returns the tool's frame, on the person's course home."""
    page = actor.page
    page.goto(f"{actor.sites['lms']}/sandbox/launch/{shape}/{person_key}")
    frame = page.wait_for_selector("iframe.lms-frame").content_frame()
    frame.wait_for_url(COURSE_HOME)
    frame.wait_for_load_state()
    assert frame.url.startswith(actor.sites["tool"]), frame.url  # the other origin
    acknowledge_privacy_notice(frame)
    return frame


def choose_language(frame: Frame, locale: str = "en") -> None:
    """Override the language the LMS sent, in Preferences (found by URL: the page may be in any language)."""
    frame.goto(re.sub(r"(/c/\d+/).*", r"\1preferences", frame.url))
    frame.locator("#locale").select_option(locale)
    go(frame, frame.locator("main form button[type=submit]"))
    assert frame.locator("html").get_attribute("lang").startswith(locale)


def acknowledge_privacy_notice(frame: Frame) -> None:
    """The privacy notice shown once at first launch, when the tool has one."""
    banner = frame.locator("aside.callout a[href*='privacy']")
    if banner.count() == 0:
        return
    back = frame.url
    go(frame, banner.first)
    go(frame, frame.get_by_role("button", name="I have read the privacy notice"))
    if frame.locator("aside.callout a[href*='privacy']").count():
        raise AssertionError("the privacy notice is still due after acknowledging it")
    if frame.url != back:
        frame.goto(back)


def go(frame: Frame, locator) -> None:
    """Click something that loads a new page in ``frame`` and wait for that page."""
    with frame.expect_navigation():
        locator.click()


def nav(frame: Frame, link: str) -> None:
    go(frame, frame.get_by_role("navigation", name="Course").get_by_role("link", name=link, exact=True))


def poll_page(page: Page, url: str, locator: str, timeout: float = 20.0, message: str = ""):
    """Reload ``url`` until ``locator`` shows (mail and grades are delivered after the response)."""

    def found():
        page.goto(url)
        return page.locator(locator).count() > 0

    wait_until(found, timeout=timeout, interval=0.5, message=message or locator)
    return page.locator(locator).first


def expect_status(frame: Frame, text: str) -> None:
    expect(frame.locator("[role=status], [role=alert], .flash").filter(has_text=text).first).to_be_visible()


def supervisor_signs_in(actor: Actor) -> Page:
    """The supervisor follows the invitation from the sandbox mailbox and signs in with a click."""
    page = actor.page
    subject = poll_page(page, f"{actor.sites['lms']}/sandbox/mailbox",
                        "a:has-text('asks you to sign off their internship journal')",
                        message="the invitation in the sandbox mailbox")
    go(page.main_frame, subject)
    go(page.main_frame, page.get_by_role("link", name="Open the mail's link"))
    page.get_by_role("checkbox").check()
    go(page.main_frame, page.get_by_role("button", name="Sign in"))
    acknowledge_privacy_notice(page.main_frame)
    expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
    return page
