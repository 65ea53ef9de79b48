"""The review queue loads everything it shows in a fixed number of statements, however
many weeks wait: tasks, objectives, interns and evidence come with the entries."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import event

from portfolio.db import db


def statements(app, client, path: str) -> int:
    seen = []
    with app.app_context():
        engine = db.engine

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return len(seen)


def waiting_week_with_evidence(app, team, week: date) -> None:
    from portfolio.evidence.models import Evidence

    entry_id = team.submitted_entry(week=week)
    with app.app_context():
        db.session.add(Evidence(entry_id=entry_id, original_name=f"report-{week}.pdf", stored_name=f"s{entry_id}",
                                content_type="application/pdf", size=1024, sha256="0" * 64))
        db.session.commit()


def test_the_queue_costs_the_same_for_two_weeks_as_for_ten(app, team):
    client = team.login(team.make_client(), team.advisor)
    path = f"/c/{team.course_id}/review"
    counts, weeks = {}, 0
    for waiting in (2, 10):
        for _ in range(waiting - weeks):
            waiting_week_with_evidence(app, team, date(2027, 3, 1) + timedelta(weeks=weeks))
            weeks += 1
        client.get(path)  # the first request of a client warms caches; not counted
        counts[waiting] = statements(app, client, path)
    page = client.get(path).get_data(as_text=True)
    assert page.count("Prepared the workshop") == 10 and "report-2027-05-03.pdf" in page
    assert counts[2] == counts[10], counts
