"""Every person has a time zone: the one the LMS sends at launch, else the browser's, and
in any case the one they choose in Preferences. A week's deadline is shown in the time
where the person is and, for interns, also in the course's time zone."""

from __future__ import annotations

import re
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, wait_until
from tests.browser.journey import Actor, go, launch


def new_actor(browser, name, sites, shots, axe_log, timezone_id):
    context = browser.new_context(viewport=DESKTOP, timezone_id=timezone_id, locale="en-GB")
    context.set_default_timeout(10_000)
    return context, Actor(name, context.new_page(), sites, shots, axe_log)


def set_placement(tool, timezone: str | None = None) -> None:
    go(tool, tool.get_by_role("link", name="Set up my placement"))
    tool.get_by_label("Host organisation").fill("Estúdio Paulista")
    tool.get_by_label("Country").select_option("BR")
    tool.get_by_label("First day").fill((date.today() - timedelta(days=10)).isoformat())
    tool.get_by_label("Last day").fill((date.today() + timedelta(days=60)).isoformat())
    tool.get_by_label("Expected hours per week").fill("40")
    if timezone:
        tool.get_by_label("Time zone at the host").select_option(timezone)
    go(tool, tool.get_by_role("button", name="Save placement"))


def clock(when, zone: str) -> re.Pattern:
    """The wall-clock time of ``when`` in ``zone``, as a 24-hour or a 12-hour clock shows it."""
    local = when.astimezone(ZoneInfo(zone))
    twelve = f"{local.hour % 12 or 12}:{local.minute:02d}\\s{'AM' if local.hour < 12 else 'PM'}"
    return re.compile(f"{local:%H:%M}|{twelve}")


def due_now(placement_zone: str):
    """This week's deadline: Sunday 23:59 in the placement's zone."""
    from portfolio.journal.weeks import current_week, week_bounds

    return week_bounds(current_week(placement_zone), placement_zone)[1] - timedelta(minutes=1)


def this_week(tool) -> None:
    go(tool, tool.locator("li.week-current a").first)


def zone_of(app, person_key: str) -> str | None:
    """The time zone the tool keeps for a sandbox person launched from the Moodle shape."""
    import sqlalchemy as sa

    from lti.sandbox.platform import PEOPLE_BY_KEY, sub_for
    from portfolio.db import db
    from portfolio.people.models import User

    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.lti_sub == sub_for(PEOPLE_BY_KEY[person_key], "moodle")))
        return user.effective_timezone if user else None


def test_without_a_zone_from_the_lms_the_browser_s_is_used(app, browser, sites, shots, axe_log):
    # The anonymous intern: the LMS shares only an opaque id, and no time zone.
    context, intern = new_actor(browser, "intern", sites, shots, axe_log, "America/Sao_Paulo")
    try:
        # While the tool does not know the zone, the page shows the deadline in the browser's.
        context.route("**/timezone", lambda route: route.abort())
        tool = launch(intern, "anon")
        go(tool, tool.get_by_role("link", name="Set up my placement"))
        expect(tool.get_by_label("Time zone at the host")).to_have_value("America/Sao_Paulo")
        tool.goto(re.sub(r"(/c/\d+/).*", r"\1journal", tool.url))
        set_placement(tool)
        this_week(tool)
        deadline = tool.locator(".deadline")
        expect(deadline.locator("[data-local-zone]")).to_have_text("America/Sao_Paulo")
        due = due_now("America/Sao_Paulo")
        expect(deadline.locator("time[data-local-time]")).to_contain_text(clock(due, "America/Sao_Paulo"))
        expect(deadline.locator("time[data-local-time]")).to_contain_text("Sunday")
        intern.shot("deadline-in-browser-zone")
        assert zone_of(app, "anon") is None

        # The browser tells the tool, which keeps the zone as the person's.
        context.unroute("**/timezone")
        tool.goto(tool.url)
        wait_until(lambda: zone_of(app, "anon") == "America/Sao_Paulo", message="the browser's zone kept")
        tool.goto(tool.url)
        expect(deadline).to_contain_text("your time (America/Sao_Paulo)")
        expect(deadline.locator("time[data-local-time]")).to_have_count(0)  # the server knows it now
        expect(deadline.locator("time").first).to_contain_text(clock(due, "America/Sao_Paulo"))
    finally:
        context.close()


def test_zone_from_the_launch_then_chosen_in_preferences(app, browser, sites, shots, axe_log):
    context, intern = new_actor(browser, "intern", sites, shots, axe_log, "Europe/London")
    try:
        tool = launch(intern, "amara", shape="canvas")  # Canvas sends canvas_user_timezone
        set_placement(tool, "Pacific/Auckland")
        due = due_now("Pacific/Auckland")
        # The journal's timeline says when this week is due, too.
        expect(tool.locator("li.week-current .deadline")).to_contain_text("your time (Pacific/Auckland)")
        expect(tool.locator("li.week-current .deadline time").first).to_contain_text(clock(due, "Pacific/Auckland"))
        this_week(tool)
        deadline = tool.locator(".deadline")
        expect(deadline).to_contain_text("your time (Pacific/Auckland)")
        expect(deadline.locator("time").first).to_contain_text(clock(due, "Pacific/Auckland"))
        # The course's zone (UTC here) too: an intern's deadlines are also the course's.
        expect(deadline).to_contain_text("In the course's time zone (UTC)")
        expect(deadline.locator("time").nth(1)).to_contain_text(clock(due, "UTC"))
        intern.shot("deadline-from-launch-zone")

        # Travelling: she chooses Tokyo; the same deadline shows as Tokyo's clock reads it.
        tool.goto(re.sub(r"(/c/\d+/).*", r"\1preferences", tool.url))
        tool.get_by_label("Time zone").select_option("Asia/Tokyo")
        go(tool, tool.locator("main form button[type=submit]"))
        tool.goto(re.sub(r"(/c/\d+/).*", r"\1journal", tool.url))
        this_week(tool)
        expect(deadline).to_contain_text("your time (Asia/Tokyo)")
        expect(deadline.locator("time").first).to_contain_text(clock(due, "Asia/Tokyo"))
        intern.check_a11y(tool, "week form with deadline")
        intern.shot("deadline-in-chosen-zone")
    finally:
        context.close()
