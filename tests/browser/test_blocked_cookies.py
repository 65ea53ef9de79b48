"""The launch with third-party cookies blocked (Chromium's third-party cookie phase-out,
as in Chrome's incognito mode, Safari and Firefox's strict mode): inside the LMS frame
the tool's cookies are third-party.

Two paths, each proved by what the browser holds afterwards:
- partitioned cookies (CHIPS): the tool's cookies carry ``Partitioned``, so Chromium keeps
  them in a jar keyed by the LMS's site, and the launch completes inside the frame;
- the new-window fallback: when no cookie survives in the frame (here the tool sends
  them unpartitioned, which is what a browser without CHIPS sees), the launch ends on
  "continue in a new window"; its single-use button opens the tool top-level, where
  the cookies are first-party.

The third path, LTI platform storage (``lti_storage_target``), is proved in
``test_platform_storage.py``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, launch_chromium
from tests.browser.journey import COURSE_HOME, Actor, acknowledge_privacy_notice

SESSION = "portfolio_session"


@pytest.fixture(scope="module")
def blocking_browser(playwright_driver):
    """Chromium with third-party cookies blocked."""
    chromium = launch_chromium(playwright_driver, "--test-third-party-cookie-phaseout")
    yield chromium
    chromium.close()


@pytest.fixture
def context(blocking_browser):
    context = blocking_browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def tool_cookies(context, sites) -> dict:
    host = re.sub(r"^https?://|:\d+$", "", sites["tool"])
    return {c["name"]: c for c in context.cookies() if c["domain"] == host}


def sign_ins(app) -> list[str]:
    """How each sign-in came in, oldest first, from the audit trail: "launch" (in the frame)
    or "launch-window" (the new-window ticket)."""
    import sqlalchemy as sa

    from portfolio.audit.models import AuditEvent
    from portfolio.db import db

    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent.via).where(AuditEvent.action == "signed_in")
                                       .order_by(AuditEvent.id)))


def test_partitioned_cookies_carry_the_launch(app, sites, context, shots, axe_log):
    page = context.new_page()
    intern = Actor("intern", page, sites, shots, axe_log)
    page.goto(f"{sites['lms']}/sandbox/launch/moodle/amara")
    frame = page.wait_for_selector("iframe.lms-frame").content_frame()
    frame.wait_for_url(COURSE_HOME)
    acknowledge_privacy_notice(frame)
    expect(frame.get_by_role("heading", level=1)).to_have_text("My internship journal")
    intern.shot("launched-with-partitioned-cookies")

    session = tool_cookies(context, sites)[SESSION]
    assert session["partitionKey"] == sites["lms"].rsplit(":", 1)[0], session  # kept for the LMS's site only
    assert session["sameSite"] == "None" and session["secure"]
    # The session works on the next request inside the frame.
    frame.goto(re.sub(r"(/c/\d+/).*", r"\1placement", frame.url))
    expect(frame.get_by_role("heading", level=1)).to_have_text("My placement")
    assert sign_ins(app) == ["launch"]


def test_without_partitioned_cookies_the_launch_continues_in_a_new_window(app, sites, context, shots, axe_log,
                                                                          monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_PARTITIONED", False)
    page = context.new_page()
    intern = Actor("intern", page, sites, shots, axe_log)
    page.goto(f"{sites['lms']}/sandbox/launch/moodle/amara")
    frame = page.wait_for_selector("iframe.lms-frame").content_frame()
    frame.wait_for_url(re.compile(r"/lti/launch$"))
    expect(frame.get_by_role("heading", level=1)).to_have_text("Continue in a new window")
    assert not tool_cookies(context, sites), "the browser kept a third-party cookie: nothing is blocked"
    intern.check_a11y(frame, "continue in a new window")
    intern.shot("continue-in-a-new-window")

    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Open the portfolio in a new window").click()
    window = opened.value
    window.wait_for_url(COURSE_HOME)
    assert window.url.startswith(sites["tool"])
    acknowledge_privacy_notice(window.main_frame)
    expect(window.get_by_role("heading", level=1)).to_have_text("My internship journal")
    intern.shot("in-its-own-window", window)
    session = tool_cookies(context, sites)[SESSION]
    assert session.get("partitionKey") is None  # first-party, in the tool's own window
    assert sign_ins(app) == ["launch", "launch-window"]  # validated in the frame, signed in in the window

    # The button works once.
    with page.expect_popup() as opened_again:
        frame.get_by_role("button", name="Open the portfolio in a new window").click()
    again = opened_again.value
    again.wait_for_load_state()
    expect(again.locator("main")).to_contain_text("already used or has expired")
