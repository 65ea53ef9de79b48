"""The advisor reads an intern's audit trail: who, role, what, when, through which door."""

from __future__ import annotations

import sqlalchemy as sa

from portfolio.audit.models import AuditEvent
from portfolio.db import db
from tests.journal.helpers import csrf_token


def test_sign_in_and_decision_are_in_the_interns_trail(app, team, make_client):
    entry_id = team.submitted_entry()
    client, _ = team.sign_in(team.invite())
    page = client.get(f"/c/{team.course_id}/review").get_data(as_text=True)
    import re

    shown = re.search(r'name="content_hash" value="([0-9a-f]{64})"', page).group(1)
    client.post(f"/c/{team.course_id}/entries/{entry_id}/decide",
                data={"csrf_token": csrf_token(page), "decision": "approve", "content_hash": shown})
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.about_id == team.intern.user_id)
                                    .order_by(AuditEvent.id)).all()
        summary = [(e.action, e.actor_role, e.via) for e in events]
    assert ("supervisor.invited", "intern", "web") in summary
    assert ("signed_in", "supervisor", "link") in summary
    assert ("entry.approved", "supervisor", "link") in summary

    advisor = team.login(make_client(), team.advisor)
    trail = advisor.get(f"/c/{team.course_id}/interns/{team.intern.user_id}/audit").get_data(as_text=True)
    assert "entry.approved" in trail and "Claire Dubois" in trail and "supervisor.invited" in trail
    assert shown in trail  # the hash of what was approved
