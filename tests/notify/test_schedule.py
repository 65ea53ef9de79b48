"""Monday-morning mail: reminders to interns in the time zone of their placement, and
digests to supervisors in theirs. The job runs every hour; each recipient gets one a week."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from portfolio.db import db
from portfolio.journal.models import EntryState
from portfolio.notify.schedule import review_url, send_digests, send_reminders
from portfolio.people.models import Role
from portfolio.signoff.models import Supervision
from tests.notify import make_person, outbox

# Monday 15 March 2027, 09:00 in Auckland (NZDT, UTC+13) is still Sunday 13:00 in Los Angeles.
AUCKLAND_MONDAY_9 = datetime(2027, 3, 14, 20, 0, tzinfo=timezone.utc)
LOS_ANGELES_MONDAY_9 = datetime(2027, 3, 15, 16, 0, tzinfo=timezone.utc)  # PDT, UTC-7
BERLIN_MONDAY_9 = datetime(2027, 3, 15, 8, 0, tzinfo=timezone.utc)  # CET, UTC+1
WEEK = timedelta(days=7)


def reminders(app, now) -> int:
    with app.app_context():
        queued = send_reminders(now)
        db.session.commit()
        return queued


def digests(app, now) -> int:
    with app.app_context():
        queued = send_digests(now)
        db.session.commit()
        return queued


@pytest.fixture
def intern_in(make_member, make_placement):
    def make(tz: str, start=date(2027, 3, 1), end=date(2027, 6, 25), **kwargs):
        intern = make_member(Role.intern, **kwargs)
        make_placement(intern, start=start, end=end, timezone=tz)
        return intern

    return make


def test_reminders_go_out_on_monday_morning_where_the_intern_is(app, intern_in):
    auckland = intern_in("Pacific/Auckland", name="Aroha")
    los_angeles = intern_in("America/Los_Angeles", name="Luis")

    assert reminders(app, AUCKLAND_MONDAY_9) == 1
    [mail] = outbox(app)
    assert mail.recipient_id == auckland.user_id
    assert mail.dedupe_key == f"reminder:{auckland.course_id}:{auckland.user_id}:2027-03-15"
    assert mail.subject == "Your journal in Internship 2027: 2 weeks to complete"
    assert "the week of Mar 1, 2027: nothing written yet" in mail.body_text
    assert "the week of Mar 8, 2027: nothing written yet" in mail.body_text
    # Each week's deadline: Sunday 23:59 at the host, and the same moment in the course's zone.
    assert "Due by Sunday, March 7, 2027, 11:59\u202fPM, your time (Pacific/Auckland)." in mail.body_text
    assert "In the course's time zone (UTC): Sunday, March 7, 2027, 10:59\u202fAM." in mail.body_text
    assert "Due by Sunday, March 14, 2027, 11:59\u202fPM, your time (Pacific/Auckland)." in mail.body_html
    assert f"{app.config['BASE_URL']}/c/{auckland.course_id}/journal" in mail.body_text

    assert reminders(app, AUCKLAND_MONDAY_9 + timedelta(hours=2)) == 0  # the next hourly run, same morning
    assert reminders(app, LOS_ANGELES_MONDAY_9) == 1
    assert outbox(app)[-1].recipient_id == los_angeles.user_id
    assert reminders(app, LOS_ANGELES_MONDAY_9 + timedelta(hours=1)) == 0

    assert reminders(app, AUCKLAND_MONDAY_9 + WEEK) == 1  # a week later, again
    assert "the week of Mar 15, 2027: nothing written yet" in outbox(app)[-1].body_text
    assert len(outbox(app)) == 3


@pytest.mark.parametrize("hours", [-2, 3, 24])  # from 08:00 to before 12:00 on Monday: not 07:00, 12:00, Tuesday
def test_no_reminder_outside_monday_morning(app, intern_in, hours):
    intern_in("Pacific/Auckland")
    assert reminders(app, AUCKLAND_MONDAY_9 + timedelta(hours=hours)) == 0


def test_interns_with_nothing_missing_get_no_reminder(app, intern_in, make_entry):
    intern = intern_in("Pacific/Auckland")
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.approved)
    make_entry(intern, week_start=date(2027, 3, 8), state=EntryState.submitted)
    assert reminders(app, AUCKLAND_MONDAY_9) == 0


def test_drafts_are_reminded_as_drafts_and_empty_drafts_as_missing(app, intern_in, make_entry):
    intern = intern_in("Pacific/Auckland")
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.draft, reflection="")
    make_entry(intern, week_start=date(2027, 3, 8), state=EntryState.draft, reflection="Half written")
    make_entry(intern, week_start=date(2027, 3, 15), state=EntryState.draft)  # this week: not due yet
    assert reminders(app, AUCKLAND_MONDAY_9) == 1
    text = outbox(app)[0].body_text
    assert "the week of Mar 1, 2027: nothing written yet" in text
    assert "the week of Mar 8, 2027: a draft, not submitted yet" in text
    assert "Mar 15, 2027" not in text


def test_a_reminder_lists_the_four_latest_weeks(app, intern_in):
    intern_in("Pacific/Auckland", start=date(2027, 1, 4))
    assert reminders(app, AUCKLAND_MONDAY_9) == 1
    text = outbox(app)[0].body_text
    assert [line for line in text.splitlines() if line.startswith("- ")] == [
        f"- the week of {day}: nothing written yet" for day in ("Feb 15, 2027", "Feb 22, 2027", "Mar 1, 2027",
                                                                 "Mar 8, 2027")]


@pytest.mark.parametrize("start, end", [(date(2027, 1, 4), date(2027, 3, 5)), (date(2027, 3, 15), date(2027, 6, 25))])
def test_no_reminder_before_or_after_the_placement(app, intern_in, start, end):
    intern_in("Pacific/Auckland", start=start, end=end)
    assert reminders(app, AUCKLAND_MONDAY_9) == 0


def test_a_reminder_is_in_the_interns_language(app, intern_in):
    intern_in("Pacific/Auckland", locale="es")
    reminders(app, AUCKLAND_MONDAY_9)
    [mail] = outbox(app)
    assert mail.locale == "es" and '<html lang="es">' in mail.body_html
    assert "1 mar 2027" in mail.body_text


# --- digests -------------------------------------------------------------------------------------


def supervise(app, intern, supervisor_id: int, ended: bool = False) -> None:
    with app.app_context():
        db.session.add(Supervision(course_id=intern.course_id, intern_id=intern.user_id, supervisor_id=supervisor_id,
                                   ended_at=datetime.now(timezone.utc) if ended else None))
        db.session.commit()


@pytest.fixture
def supervised(app, make_member, make_entry):
    """An intern with one week waiting for sign-off, supervised from Berlin."""
    intern = make_member(Role.intern, name="Amara Okafor")
    supervisor = make_person(app, name="Sam Supervisor", email="sam@host.example", timezone="Europe/Berlin")
    supervise(app, intern, supervisor)
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.submitted)
    make_entry(intern, week_start=date(2027, 3, 8), state=EntryState.approved)
    return intern, supervisor


def test_a_supervisor_gets_one_digest_a_week_of_what_waits(app, supervised):
    intern, supervisor = supervised
    assert digests(app, BERLIN_MONDAY_9 - timedelta(days=1)) == 0  # Sunday
    assert digests(app, BERLIN_MONDAY_9) == 1
    assert digests(app, BERLIN_MONDAY_9 + timedelta(hours=2)) == 0
    [mail] = outbox(app)
    assert mail.recipient_id == supervisor and mail.dedupe_key == f"digest:{intern.course_id}:{supervisor}:2027-W11"
    assert mail.subject == "One week waits for your sign-off in Internship 2027"
    assert "Amara Okafor, the week of Mar 1, 2027, submitted" in mail.body_text
    assert "Mar 8, 2027" not in mail.body_text  # approved: nothing to do
    with app.test_request_context():
        assert review_url(intern.course_id) in mail.body_text

    assert digests(app, BERLIN_MONDAY_9 + WEEK) == 1
    assert outbox(app)[-1].dedupe_key.endswith(":2027-W12")


def test_no_digest_when_nothing_waits(app, make_member, make_entry):
    intern = make_member(Role.intern)
    supervisor = make_person(app, timezone="Europe/Berlin")
    supervise(app, intern, supervisor)
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.approved)
    make_entry(intern, week_start=date(2027, 3, 8), state=EntryState.draft)
    make_entry(intern, week_start=date(2027, 3, 15), state=EntryState.submitted)  # an older revision…
    make_entry(intern, week_start=date(2027, 3, 15), state=EntryState.draft, revision=2)  # …is not the live one
    assert digests(app, BERLIN_MONDAY_9) == 0


def test_an_ended_supervision_gets_no_digest(app, make_member, make_entry):
    intern = make_member(Role.intern)
    supervise(app, intern, make_person(app, timezone="Europe/Berlin"), ended=True)
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.submitted)
    assert digests(app, BERLIN_MONDAY_9) == 0


def test_one_digest_lists_every_intern_of_the_supervisor(app, supervised, make_member, make_entry):
    intern, supervisor = supervised
    other = make_member(Role.intern, course_id=intern.course_id, name="Ben Brown")
    supervise(app, other, supervisor)
    make_entry(other, week_start=date(2027, 3, 8), state=EntryState.submitted)
    assert digests(app, BERLIN_MONDAY_9) == 1
    [mail] = outbox(app)
    assert mail.subject == "2 weeks wait for your sign-off in Internship 2027"
    assert "Amara Okafor, the week of Mar 1" in mail.body_text and "Ben Brown, the week of Mar 8" in mail.body_text


def test_a_supervisor_without_a_time_zone_gets_it_on_the_courses_monday(app, make_course, make_member, make_entry):
    intern = make_member(Role.intern, course_id=make_course(timezone="Asia/Tokyo"))
    supervise(app, intern, make_person(app, timezone=None))
    make_entry(intern, week_start=date(2027, 3, 1), state=EntryState.submitted)
    tokyo_monday_9 = datetime(2027, 3, 15, 0, 0, tzinfo=timezone.utc)
    assert digests(app, BERLIN_MONDAY_9) == 0
    assert digests(app, tokyo_monday_9) == 1


def test_the_hourly_command_queues_commits_and_delivers(app, runner, intern_in, monkeypatch):
    intern_in("Pacific/Auckland")
    monkeypatch.setattr("portfolio.notify.schedule.utcnow", lambda: AUCKLAND_MONDAY_9)
    result = runner.invoke(args=["notify", "reminders"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["reminders queued: 1, digests queued: 0", "1 sent"]
    assert outbox(app)[0].transport == "sandbox"
