"""The admin pages do what the CLI does, and the CLI what the pages do: the outbox and
its retry, the audit log with its filters, platforms, deployments and keys."""

from __future__ import annotations

import json

import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role
from tests.journal.helpers import token_for


def _platform_of(app, course_id):
    from portfolio.people.models import Course

    with app.app_context():
        return db.session.get(Course, course_id).platform_id


def _failed_mail(app, course_id, subject="Week reminder"):
    from portfolio.notify.models import OutboxMessage, OutboxState

    with app.app_context():
        mail = OutboxMessage(dedupe_key=subject, course_id=course_id, recipient="x@host.test", subject=subject,
                             body_text="b", body_html="<p>b</p>", state=OutboxState.failed, attempts=10,
                             last_error="SMTPRecipientsRefused: no such user")
        db.session.add(mail)
        db.session.commit()
        return mail.id


def test_the_outbox_lists_failed_mail_and_retries_it(app, make_member, make_client, login):
    from portfolio.audit.models import AuditEvent
    from portfolio.notify.models import OutboxMessage, OutboxState

    admin = make_member(Role.admin)
    mail_id = _failed_mail(app, admin.course_id)
    client = login(make_client(), admin)
    page = client.get(f"/c/{admin.course_id}/admin/outbox?state=failed").get_data(as_text=True)
    assert "Week reminder" in page and "no such user" in page
    assert "Week reminder" not in client.get(f"/c/{admin.course_id}/admin/outbox?state=pending").get_data(as_text=True)
    response = client.post(f"/c/{admin.course_id}/admin/outbox/mails/{mail_id}/retry",
                           data={"csrf_token": token_for(client, admin.course_id)})
    assert response.status_code == 302
    with app.app_context():
        mail = db.session.get(OutboxMessage, mail_id)
        assert mail.attempts == 0 or mail.state is not OutboxState.failed
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "outbox.retried"))
        assert event.actor_id == admin.user_id and event.details["previous_state"] == "failed"


def test_a_sent_mail_is_not_sent_again(app, make_member, make_client, login):
    from portfolio.notify.models import OutboxMessage, OutboxState

    admin = make_member(Role.admin)
    mail_id = _failed_mail(app, admin.course_id)
    with app.app_context():
        db.session.get(OutboxMessage, mail_id).state = OutboxState.sent
        db.session.commit()
    client = login(make_client(), admin)
    response = client.post(f"/c/{admin.course_id}/admin/outbox/mails/{mail_id}/retry",
                           data={"csrf_token": token_for(client, admin.course_id)})
    assert response.status_code == 409


def test_the_cli_lists_and_retries_the_outbox(app, make_member, runner):
    from portfolio.notify.models import OutboxMessage, OutboxState

    admin = make_member(Role.admin)
    mail_id = _failed_mail(app, admin.course_id)
    platform_id = _platform_of(app, admin.course_id)
    listed = runner.invoke(args=["admin", "outbox", "--platform", str(platform_id), "--state", "failed"])
    assert listed.exit_code == 0 and f"mail {mail_id}\tfailed" in listed.output
    other = runner.invoke(args=["admin", "outbox", "--platform", str(platform_id + 999)])
    assert "nothing waiting or failed" in other.output
    assert runner.invoke(args=["admin", "retry", "mail", str(mail_id)]).exit_code == 0
    with app.app_context():
        assert db.session.get(OutboxMessage, mail_id).state in (OutboxState.pending, OutboxState.sent,
                                                                OutboxState.sending)
        assert db.session.get(OutboxMessage, mail_id).attempts == 0 or \
            db.session.get(OutboxMessage, mail_id).state is OutboxState.sent
    assert runner.invoke(args=["admin", "retry", "mail", "999999"]).exit_code == 1


def test_the_audit_log_filters(app, make_member, make_course, make_client, login, runner):
    from portfolio.audit.operations import record_event
    from portfolio.people.models import Course, User

    admin = make_member(Role.admin)
    platform_id = _platform_of(app, admin.course_id)
    sibling = make_course("Sibling", platform_id=platform_id)
    intern = make_member(Role.intern, course_id=sibling)
    foreign = make_member(Role.intern)
    with app.app_context():
        record_event("entry.submitted", actor=db.session.get(User, intern.user_id),
                     course=db.session.get(Course, sibling), via="web", marker="alpha")
        record_event("objective.created", actor=db.session.get(User, admin.user_id),
                     course=db.session.get(Course, admin.course_id), via="web", marker="beta")
        record_event("entry.submitted", actor=db.session.get(User, foreign.user_id),
                     course=db.session.get(Course, foreign.course_id), via="web", marker="foreign")
        db.session.commit()
    client = login(make_client(), admin)
    base = f"/c/{admin.course_id}/admin/audit"
    everything = client.get(base).get_data(as_text=True)
    assert "alpha" in everything and "beta" in everything and "foreign" not in everything
    assert "beta" not in client.get(base + "?action=entry.").get_data(as_text=True)
    assert "alpha" not in client.get(base + f"?course={admin.course_id}").get_data(as_text=True)
    by_person = client.get(base + f"?person={intern.user_id}").get_data(as_text=True)
    assert "alpha" in by_person and "beta" not in by_person
    assert "alpha" not in client.get(base + "?since=2999-01-01").get_data(as_text=True)
    assert client.get(base + "?since=garbage&person=x&course=y").status_code == 200  # ignored, never a 500
    lines = runner.invoke(args=["admin", "audit", "--platform", str(platform_id), "--action", "entry."]).output
    events = [json.loads(line) for line in lines.splitlines()]
    assert [e["details"]["marker"] for e in events] == ["alpha"]


def test_deployments_are_added_disabled_and_removed(app, make_member, make_client, login, runner):
    from lti.models import Deployment

    admin = make_member(Role.admin)
    platform_id = _platform_of(app, admin.course_id)
    client = login(make_client(), admin)
    base = f"/c/{admin.course_id}/admin/platforms"
    token = token_for(client, admin.course_id)
    empty = client.post(base + "/deployments", data={"csrf_token": token, "deployment_id": ""})
    assert empty.status_code == 422 and 'id="deployment_id-error"' in empty.get_data(as_text=True)
    duplicate = client.post(base + "/deployments", data={"csrf_token": token, "deployment_id": "1"})
    assert duplicate.status_code == 422 and "registered already" in duplicate.get_data(as_text=True)
    assert client.post(base + "/deployments", data={"csrf_token": token, "deployment_id": "dep-2"}).status_code == 302
    with app.app_context():
        added = db.session.scalar(sa.select(Deployment).where(Deployment.deployment_id == "dep-2"))
        used = db.session.scalar(sa.select(Deployment).where(Deployment.platform_id == platform_id,
                                                             Deployment.deployment_id == "1"))
        added_id, used_id = added.id, used.id
    assert client.post(f"{base}/deployments/{added_id}/disable", data={"csrf_token": token}).status_code == 302
    assert client.post(f"{base}/deployments/{used_id}/remove", data={"csrf_token": token}).status_code == 409
    assert client.post(f"{base}/deployments/{added_id}/remove", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Deployment, added_id) is None and db.session.get(Deployment, used_id).enabled
    # The CLI does the same.
    assert runner.invoke(args=["lti", "add-deployment", str(platform_id), "dep-3"]).exit_code == 0
    assert runner.invoke(args=["lti", "disable-deployment", str(platform_id), "dep-3"]).exit_code == 0
    assert "dep-3 [disabled]" in runner.invoke(args=["lti", "list-platforms"]).output
    refused = runner.invoke(args=["lti", "remove-deployment", str(platform_id), "1"])
    assert refused.exit_code == 1 and "disable it instead" in refused.output
    assert runner.invoke(args=["lti", "remove-deployment", str(platform_id), "dep-3"]).exit_code == 0


def test_a_platform_is_disabled_and_a_new_one_registered(app, make_member, make_client, login, runner):
    from lti.models import Platform

    admin = make_member(Role.admin)
    platform_id = _platform_of(app, admin.course_id)
    client = login(make_client(), admin)
    base = f"/c/{admin.course_id}/admin/platforms"
    token = token_for(client, admin.course_id)
    bad = client.post(base + "/new", data={"csrf_token": token, "issuer": "https://canvas.example", "client_id": "9",
                                           "auth_login_url": "ftp://x", "auth_token_url": "https://c.example/t",
                                           "key_set_url": "https://c.example/k", "deployment_ids": "a b"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="auth_login_url-error"' in body and 'value="https://canvas.example"' in body
    good = client.post(base + "/new", data={"csrf_token": token, "issuer": "https://canvas.example", "client_id": "9",
                                            "auth_login_url": "https://c.example/a", "auth_token_url": "https://c.example/t",
                                            "key_set_url": "https://c.example/k", "deployment_ids": "a b"})
    assert good.status_code == 302
    with app.app_context():
        new = db.session.scalar(sa.select(Platform).where(Platform.issuer == "https://canvas.example"))
        assert sorted(d.deployment_id for d in new.deployments) == ["a", "b"]
        new_id = new.id
    assert client.post(base + "/remove", data={"csrf_token": token}).status_code == 409  # its courses stay
    assert client.post(base + "/disable", data={"csrf_token": token}).status_code == 302
    with app.app_context():
        assert db.session.get(Platform, platform_id).enabled is False
    assert runner.invoke(args=["lti", "enable-platform", str(platform_id)]).exit_code == 0
    assert runner.invoke(args=["lti", "remove-platform", str(new_id)]).exit_code == 0
    with app.app_context():
        assert db.session.get(Platform, platform_id).enabled and db.session.get(Platform, new_id) is None


def test_keys_are_listed_as_published(app, make_member, make_client, login, runner):
    admin = make_member(Role.admin)
    client = login(make_client(), admin)
    token = token_for(client, admin.course_id)
    assert client.post(f"/c/{admin.course_id}/admin/keys/rotate", data={"csrf_token": token}).status_code == 302
    assert client.post(f"/c/{admin.course_id}/admin/keys/rotate", data={"csrf_token": token}).status_code == 302
    page = client.get(f"/c/{admin.course_id}/admin/platforms").get_data(as_text=True)
    assert page.count("retired, published until") == 1 and page.count(">active<") == 1
    output = runner.invoke(args=["lti", "list-keys"]).output
    published = {key["kid"] for key in client.get("/lti/jwks").get_json()["keys"]}
    assert {line.split("\t")[0] for line in output.splitlines()} == published
