from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role
from tests.journal.helpers import csrf_token


class Team:
    """An intern with a placement, objectives, an advisor, and helpers to invite and sign in."""

    def __init__(self, app, make_member, make_objective, make_placement, make_entry, make_client, login):
        self.app, self.make_client, self.login, self.make_entry = app, make_client, login, make_entry
        self.intern = make_member(Role.intern, name="Amara Okafor")
        self.course_id = self.intern.course_id
        self.advisor = make_member(Role.advisor, course_id=self.course_id, name="Helen Schmidt")
        self.objective = make_objective(self.course_id, code="COM", title="Communicate")
        make_placement(self.intern, start=date(2027, 3, 1), end=date(2027, 5, 28))

    def submitted_entry(self, week=date(2027, 3, 1), intern=None, hours="7.5") -> int:
        from portfolio.journal.models import EntryState

        entry_id = self.make_entry(intern or self.intern, week_start=week, state=EntryState.submitted,
                                   tasks=[("Prepared the workshop", hours, [self.objective]), ("Wrote a report", "2", [self.objective])])
        with self.app.app_context():
            from portfolio.journal.models import Entry

            db.session.execute(sa.update(Entry).where(Entry.id == entry_id).values(submissions=1))
            db.session.commit()
        return entry_id

    def invite(self, email="claire@host.example.com", name="Claire Dubois", locale="en", as_member=None, intern=None):
        """Invite through the page; return the token from the queued mail."""
        intern = intern or self.intern
        client = self.login(self.make_client(), as_member or intern)
        page = client.get(f"/c/{self.course_id}/interns/{intern.user_id}/supervisor").get_data(as_text=True)
        response = client.post(f"/c/{self.course_id}/interns/{intern.user_id}/supervisor/invite",
                               data={"csrf_token": csrf_token(page), "name": name, "email": email, "locale": locale})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return self.latest_token(email)

    def latest_token(self, email):
        from portfolio.notify.models import OutboxMessage

        with self.app.app_context():
            message = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.recipient == email)
                                        .order_by(OutboxMessage.id.desc()).limit(1))
            assert message is not None, "no mail queued"
            return message.body_text.split("/signin/", 1)[1].split()[0].rstrip(".,)")

    def sign_in(self, token, client=None):
        client = client or self.make_client()
        page = client.get(f"/signin/{token}")
        assert page.status_code == 200
        response = client.post(f"/signin/{token}", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                         "confirm": "y"})
        return client, response


@pytest.fixture
def team(app, make_member, make_objective, make_placement, make_entry, make_client, login):
    return Team(app, make_member, make_objective, make_placement, make_entry, make_client, login)
