"""The "Sync roster" button: what the LMS lists comes in, its refusals are shown, and a
course whose LMS offers no roster gets an explanation instead of a button."""

from __future__ import annotations

import sqlalchemy as sa

from portfolio.db import db
from portfolio.lms import DeliveryDeferred, DeliveryRefused, RosterMember
from portfolio.people.models import Membership, Role, User
from tests.journal.helpers import csrf_token, token_for


def members_of(app, course_id):
    with app.app_context():
        return {u.lti_sub: role for u, role in db.session.execute(
            sa.select(User, Membership.role).join(Membership).where(Membership.course_id == course_id))}


def test_the_button_brings_in_interns_who_never_launched(app, client, login, make_member, fake_lms):
    advisor = make_member(Role.advisor, name="Helen Schmidt")
    course_id = advisor.course_id
    with app.app_context():
        advisor_sub = db.session.get(User, advisor.user_id).lti_sub
    fake = fake_lms(roster=[
        RosterMember("stu-1", "Amara Okafor", "amara@uni.example", Role.intern),
        RosterMember(advisor_sub, "Helen Schmidt", None, Role.intern),  # the launch role wins
        RosterMember("stu-2", "Left", None, Role.intern, active=False),
    ])
    login(client, advisor)
    page = client.get(f"/c/{course_id}/cohort").get_data(as_text=True)
    assert "Sync roster" in page and "0 of 0 interns shown." in page
    response = client.post(f"/c/{course_id}/cohort/roster", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/c/{course_id}/cohort")
    assert fake.fetched == [course_id]
    assert members_of(app, course_id) == {"stu-1": Role.intern, advisor_sub: Role.advisor}

    after = client.get(f"/c/{course_id}/cohort").get_data(as_text=True)
    assert "Roster synced: 1 added, 0 updated, 1 unchanged, 1 skipped." in after
    assert "Amara Okafor" in after and "never launched" in after and "1 of 1 interns shown." in after


def test_the_lms_refusing_changes_nothing_and_says_why(app, client, login, make_member, fake_lms):
    advisor = make_member(Role.advisor)
    login(client, advisor)
    token = token_for(client, advisor.course_id)
    for error, message in ((DeliveryRefused("403 Forbidden: the membership scope was not granted", status=403),
                            "the membership scope was not granted"),
                           (DeliveryDeferred("The LMS did not answer in time."), "The LMS did not answer in time.")):
        fake_lms(roster=[RosterMember("stu-1", "A", None, Role.intern)], error=error)
        response = client.post(f"/c/{advisor.course_id}/cohort/roster", data={"csrf_token": token},
                               follow_redirects=True)
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "The roster was not synced. The LMS answered:" in html and message in html
        assert set(members_of(app, advisor.course_id).values()) == {Role.advisor}


def test_without_a_roster_service_there_is_an_explanation_not_a_button(app, client, login, make_member, fake_lms):
    advisor = make_member(Role.advisor)
    fake = fake_lms(supported=False)
    login(client, advisor)
    page = client.get(f"/c/{advisor.course_id}/cohort").get_data(as_text=True)
    assert "Sync roster" not in page and "Names and Role Provisioning" in page
    token = token_for(client, advisor.course_id)
    response = client.post(f"/c/{advisor.course_id}/cohort/roster", data={"csrf_token": token}, follow_redirects=True)
    assert "does not offer this course&#39;s roster" in response.get_data(as_text=True)
    assert fake.fetched == []


def test_the_button_needs_a_csrf_token(client, login, make_member, fake_lms):
    advisor = make_member(Role.advisor)
    fake = fake_lms(roster=[RosterMember("stu-1", "A", None, Role.intern)])
    login(client, advisor)
    assert client.post(f"/c/{advisor.course_id}/cohort/roster").status_code == 400
    assert fake.fetched == []
