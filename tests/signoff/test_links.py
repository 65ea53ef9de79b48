"""The life of a supervisor's sign-in link."""

from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from portfolio.db import db, utcnow
from portfolio.people.models import Membership, Role, User
from portfolio.signoff.models import SignInLink, Supervision
from tests.journal.helpers import csrf_token


def links(app):
    with app.app_context():
        return db.session.scalars(sa.select(SignInLink).order_by(SignInLink.id)).all()


def test_invitation_creates_the_supervisor_and_mails_a_link_stored_only_as_a_hash(app, team):
    token = team.invite(locale="fr")
    with app.app_context():
        supervisor = db.session.scalar(sa.select(User).where(User.email == "claire@host.example.com"))
        assert supervisor.platform_id is None and supervisor.preferred_locale == "fr"
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == supervisor.id))
        assert membership.role is Role.supervisor and membership.course_id == team.course_id
        stored = db.session.scalars(sa.select(SignInLink.token_hash)).all()
        dump = " ".join(str(v) for row in db.session.execute(sa.select(SignInLink)).all() for v in row[0].__dict__.values())
    assert len(stored) == 1 and token not in stored and token not in dump
    link = links(app)[0]
    assert timedelta(hours=71) < link.expires_at - utcnow() <= timedelta(hours=72)


def test_get_only_shows_a_page_and_post_signs_in_once(app, team):
    token = team.invite()
    scanner = team.make_client()
    page = scanner.get(f"/signin/{token}")
    assert page.status_code == 200 and "Yes, I am Claire Dubois" in page.get_data(as_text=True)
    assert links(app)[0].used_at is None
    assert scanner.get(f"/c/{team.course_id}/review").status_code == 401  # GET signed nobody in
    # a scanner that even submits the form does not tick the box
    refused = scanner.post(f"/signin/{token}", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert refused.status_code == 422 and "Tick the box" in refused.get_data(as_text=True)
    assert links(app)[0].used_at is None

    client, response = team.sign_in(token)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/c/{team.course_id}/review")
    assert client.get(f"/c/{team.course_id}/review").status_code == 200
    assert links(app)[0].used_at is not None

    _, again = team.sign_in(token)
    assert again.status_code == 410 and "already used" in again.get_data(as_text=True)


def test_expired_link(app, team):
    token = team.invite()
    with app.app_context():
        db.session.execute(sa.update(SignInLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    _, response = team.sign_in(token)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)


def test_expiry_is_configurable(app, team):
    app.config["SIGN_IN_LINK_HOURS"] = 24
    try:
        team.invite()
    finally:
        app.config["SIGN_IN_LINK_HOURS"] = 72
    assert links(app)[0].expires_at - utcnow() <= timedelta(hours=24)


def test_resend_kills_the_old_link_and_revoke_kills_all(app, team):
    first = team.invite()
    intern = team.login(team.make_client(), team.intern)
    page = intern.get(f"/c/{team.course_id}/supervisor").get_data(as_text=True)
    assert intern.post(f"/c/{team.course_id}/interns/{team.intern.user_id}/supervisor/resend",
                       data={"csrf_token": csrf_token(page)}).status_code == 302
    second = team.latest_token("claire@host.example.com")
    assert second != first
    assert team.sign_in(first)[1].status_code == 410
    intern.post(f"/c/{team.course_id}/interns/{team.intern.user_id}/supervisor/revoke", data={"csrf_token": csrf_token(page)})
    assert team.sign_in(second)[1].status_code == 410


def test_an_advisor_can_invite_resend_and_revoke_too(app, team):
    token = team.invite(as_member=team.advisor)
    assert team.sign_in(token)[1].status_code == 302


def test_replacing_the_supervisor_kills_the_old_links_and_access(app, team):
    old_token = team.invite()
    entry_id = team.submitted_entry()
    old_client, _ = team.sign_in(old_token)
    assert old_client.get(f"/c/{team.course_id}/entries/{entry_id}").status_code == 200
    new_token = team.invite(email="boss@host.example.com", name="New Boss")
    assert old_client.get(f"/c/{team.course_id}/entries/{entry_id}").status_code == 403
    assert "Prepared the workshop" not in old_client.get(f"/c/{team.course_id}/review").get_data(as_text=True)
    with app.app_context():
        ended = db.session.scalar(sa.select(Supervision).where(Supervision.ended_at.is_not(None)))
        assert ended is not None
        assert db.session.scalar(sa.select(sa.func.count(SignInLink.id)).where(
            SignInLink.supervision_id == ended.id, SignInLink.used_at.is_(None), SignInLink.revoked_at.is_(None))) == 0
    assert team.sign_in(new_token)[1].status_code == 302


def test_a_link_signs_in_to_its_own_course_and_intern_only(app, team, make_member, make_placement):
    from datetime import date

    other_intern = make_member(Role.intern, course_id=team.course_id, name="Lucía")
    make_placement(other_intern, start=date(2027, 3, 1), end=date(2027, 5, 28))
    other_entry = team.submitted_entry(intern=other_intern)
    elsewhere = make_member(Role.intern)  # another course
    token = team.invite()
    client, _ = team.sign_in(token)
    assert client.get(f"/c/{team.course_id}/entries/{other_entry}").status_code == 403
    assert client.get(f"/c/{elsewhere.course_id}/review").status_code == 404
    assert "Lucía" not in client.get(f"/c/{team.course_id}/review").get_data(as_text=True)


def _normalised(html: str) -> str:
    html = re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)
    return re.sub(r"<code>[0-9a-f]{16}</code>", "", html)


def test_asking_for_a_new_link_never_reveals_whether_the_address_is_known(app, team):
    from portfolio.notify.models import OutboxMessage

    team.invite()
    answers = []
    for email in ("claire@host.example.com", "nobody@nowhere.example"):
        client = team.make_client()
        page = client.get("/signin").get_data(as_text=True)
        response = client.post("/signin", data={"csrf_token": csrf_token(page), "email": email})
        answers.append((response.status_code, _normalised(response.get_data(as_text=True))))
    assert answers[0] == answers[1]
    with app.app_context():
        kinds = db.session.scalars(sa.select(OutboxMessage.kind).order_by(OutboxMessage.id)).all()
        recipients = db.session.scalars(sa.select(OutboxMessage.recipient)).all()
    assert kinds == ["invitation", "sign_in_link"] and "nobody@nowhere.example" not in recipients
    fresh = team.latest_token("claire@host.example.com")
    assert team.sign_in(fresh)[1].status_code == 302


def test_invalid_invitations_keep_what_was_typed(app, team):
    client = team.login(team.make_client(), team.intern)
    page = client.get(f"/c/{team.course_id}/supervisor").get_data(as_text=True)
    response = client.post(f"/c/{team.course_id}/interns/{team.intern.user_id}/supervisor/invite",
                           data={"csrf_token": csrf_token(page), "name": "Claire Dubois", "email": "not-an-address",
                                 "locale": "fr"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Claire Dubois"' in html and 'value="not-an-address"' in html and 'aria-invalid="true"' in html
    assert links(app) == []


def test_the_invitation_mail_is_in_the_supervisors_language(app, team):
    from flask_babel import force_locale, gettext

    from portfolio.notify.models import OutboxMessage

    team.invite(locale="de")
    with app.app_context():
        mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == "invitation"))
    with app.test_request_context(), force_locale("de"):
        greeting = gettext("Hello %(name)s,", name="Claire Dubois")
    assert mail.locale == "de" and '<html lang="de"' in mail.body_html
    assert greeting != "Hello Claire Dubois," and greeting in mail.body_text
