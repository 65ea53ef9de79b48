"""LTI platform storage in a real browser: the Canvas-shaped sandbox LMS names itself
(``lti_storage_target=_parent``) as the frame that keeps values for the tool, and the
tool's login and launch pages talk to it with ``lti.capabilities``, ``lti.put_data``
and ``lti.get_data`` postMessages across the two sites (LMS at localhost, tool at
127.0.0.1).

Chromium blocks third-party cookies here. With partitioned cookies off too (what a
browser without CHIPS does), the state cookie never comes back to the launch: only the
value the LMS page kept binds the launch to its login, and then the new-window path
signs the person in. The path is proved three ways: the messages the LMS page saw
(``window.ltiStorageLog``), the audit trail's ``binding`` and what the browser holds.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, launch_chromium
from tests.browser.journey import COURSE_HOME, Actor, acknowledge_privacy_notice


@pytest.fixture(scope="module")
def blocking_browser(playwright_driver):
    chromium = launch_chromium(playwright_driver, "--test-third-party-cookie-phaseout")
    yield chromium
    chromium.close()


@pytest.fixture
def context(blocking_browser):
    context = blocking_browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(10_000)
    yield context
    context.close()


def sign_ins(app) -> list[tuple]:
    """(via, binding) of every sign-in, oldest first."""
    import sqlalchemy as sa

    from portfolio.audit.models import AuditEvent
    from portfolio.db import db

    with app.app_context():
        return [(e.via, e.details.get("binding")) for e in db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "signed_in").order_by(AuditEvent.id))]


def storage_messages(page) -> list[dict]:
    return page.evaluate("window.ltiStorageLog")


def subjects(log: list[dict], direction: str) -> list[str]:
    return [m["subject"] for m in log if m["direction"] == direction]


def test_the_launch_is_bound_through_platform_storage(app, sites, context, shots, axe_log, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_PARTITIONED", False)  # no cookie survives in the frame
    page = context.new_page()
    intern = Actor("intern", page, sites, shots, axe_log)
    page.goto(f"{sites['lms']}/sandbox/launch/canvas/amara")
    frame = page.wait_for_selector("iframe.lms-frame").content_frame()
    frame.wait_for_url(re.compile(r"/lti/launch/verify$"))
    expect(frame.get_by_role("heading", level=1)).to_have_text("Continue in a new window")
    intern.check_a11y(frame, "continue after the platform-storage check")
    intern.shot("checked-through-platform-storage")
    assert not [c for c in context.cookies() if c["domain"] == "127.0.0.1"], "a third-party cookie was kept"

    log = storage_messages(page)
    received = subjects(log, "in")
    assert "lti.capabilities" in received
    assert received.index("lti.put_data") < received.index("lti.get_data")  # stored at login, read at launch
    assert {m["origin"] for m in log if m["direction"] == "in"} == {sites["tool"]}
    put = next(m for m in log if m["direction"] == "in" and m["subject"] == "lti.put_data")
    get = next(m for m in log if m["direction"] == "in" and m["subject"] == "lti.get_data")
    assert put["key"].startswith("state_state-") and get["key"] == put["key"]
    answers = [m for m in log if m["direction"] == "out"]
    assert {"lti.capabilities.response", "lti.put_data.response", "lti.get_data.response"} <= \
        {m["subject"] for m in answers}
    assert not [m for m in answers if m["error"]] and not [m for m in log if m["direction"] == "ignored"]
    assert sign_ins(app) == [("launch", "platform-storage")]

    with page.expect_popup() as opened:
        frame.get_by_role("button", name="Open the portfolio in a new window").click()
    window = opened.value
    window.wait_for_url(COURSE_HOME)
    acknowledge_privacy_notice(window.main_frame)
    expect(window.get_by_role("heading", level=1)).to_have_text("My internship journal")
    intern.shot("in-its-own-window", window)
    assert sign_ins(app) == [("launch", "platform-storage"), ("launch-window", None)]


def test_with_partitioned_cookies_the_state_cookie_binds_the_launch(app, sites, context, shots, axe_log):
    page = context.new_page()
    page.goto(f"{sites['lms']}/sandbox/launch/canvas/amara")
    frame = page.wait_for_selector("iframe.lms-frame").content_frame()
    frame.wait_for_url(COURSE_HOME)
    acknowledge_privacy_notice(frame)
    expect(frame.get_by_role("heading", level=1)).to_have_text("My internship journal")
    received = subjects(storage_messages(page), "in")
    # The login still stored its value, but the launch had its cookie and never asked for it.
    assert "lti.put_data" in received and "lti.get_data" not in received
    assert sign_ins(app) == [("launch", "cookie")]


ASK_PARENT = """message => new Promise(resolve => {
  window.addEventListener("message", function listen(event) {
    if (event.data && event.data.message_id === message.message_id) {
      window.removeEventListener("message", listen);
      resolve({origin: event.origin, data: event.data});
    }
  });
  window.parent.postMessage(message, "*");
})"""


def test_the_lms_page_answers_per_the_spec_and_only_the_tool(app, sites, context):
    page = context.new_page()
    page.goto(f"{sites['lms']}/sandbox/launch/canvas/amara")
    frame = page.wait_for_selector("iframe.lms-frame").content_frame()
    frame.wait_for_url(COURSE_HOME)

    def ask(message):
        return frame.evaluate(ASK_PARENT, message)

    stored = ask({"subject": "lti.put_data", "message_id": "m1", "key": "colour", "value": "teal"})
    assert stored == {"origin": sites["lms"], "data": {
        "subject": "lti.put_data.response", "message_id": "m1", "key": "colour", "value": "teal"}}
    read = ask({"subject": "lti.get_data", "message_id": "m2", "key": "colour"})["data"]
    assert (read["subject"], read["value"]) == ("lti.get_data.response", "teal")
    assert ask({"subject": "lti.get_data", "message_id": "m3", "key": "nothing"})["data"]["value"] is None
    bad = ask({"subject": "lti.put_data", "message_id": "m4", "value": "no key"})["data"]
    assert bad["subject"] == "lti.put_data.response" and bad["error"]["code"] == "bad_request"
    unknown = ask({"subject": "lti.teleport", "message_id": "m5"})["data"]
    assert unknown["error"]["code"] == "unsupported_subject"
    capabilities = ask({"subject": "lti.capabilities", "message_id": "m6"})["data"]
    assert {m["subject"] for m in capabilities["supported_messages"]} >= {"lti.put_data", "lti.get_data"}

    # The LMS page's own origin is not the tool's: its messages are ignored, the tool's values stay apart.
    page.evaluate("window.postMessage({subject: 'lti.get_data', message_id: 'x', key: 'colour'}, '*')")
    page.wait_for_function("window.ltiStorageLog.some(m => m.direction === 'ignored')")
    ignored = [m for m in storage_messages(page) if m["direction"] == "ignored"]
    assert ignored == [{"direction": "ignored", "subject": "lti.get_data", "origin": sites["lms"]}]


def test_an_lms_page_that_does_not_answer_leaves_the_cookie_flow(app, sites, context, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_PARTITIONED", False)
    # The LMS names a storage frame but nothing in it listens (its script never loads).
    context.route("**/static/js/sandbox_storage.js",
                  lambda route: route.fulfill(body="", content_type="text/javascript"))
    page = context.new_page()
    page.goto(f"{sites['lms']}/sandbox/launch/canvas/amara")
    frame = page.wait_for_selector("iframe.lms-frame").content_frame()
    frame.wait_for_url(re.compile(r"/lti/launch$"))  # after the ~2 s wait, on as a plain login
    expect(frame.get_by_role("heading", level=1)).to_have_text("Continue in a new window")
    assert sign_ins(app) == [("launch", "none")]
