"""A decision reads the week once: its statements do not grow with its tasks, its
objectives or its evidence."""

from __future__ import annotations

import re
from datetime import date

from portfolio.journal.models import EntryState
from tests.journal.helpers import csrf_token
from tests.signoff.test_queue_rows import add_evidence
from tests.statements import statements_run


def _approve_counting(app, team, entry_id: int) -> int:
    client = team.login(team.make_client(), team.advisor)
    page = client.get(f"/c/{team.course_id}/review").get_data(as_text=True)
    content_hash = re.search(rf'name="content_hash-{entry_id}" value="([0-9a-f]{{64}})"', page).group(1)
    with statements_run(app) as statements:
        response = client.post(f"/c/{team.course_id}/entries/{entry_id}/decide",
                               data={"csrf_token": csrf_token(page), "content_hash": content_hash,
                                     "decision": "approve"})
    assert response.status_code == 302
    return len(statements)


def test_an_approval_reads_the_week_once_however_much_it_holds(app, team, make_objective):
    small = team.make_entry(team.intern, week_start=date(2027, 3, 1), state=EntryState.submitted,
                            tasks=[("Wrote a report", "2", [team.objective])])
    others = [make_objective(team.course_id, code=f"O{n}") for n in range(3)]
    large = team.make_entry(team.intern, week_start=date(2027, 3, 8), state=EntryState.submitted,
                            tasks=[(f"Task {n}", "2", [team.objective, *others]) for n in range(5)])
    for entry_id in (small, large):
        add_evidence(app, entry_id, f"report-{entry_id}.pdf", sha=str(entry_id % 10))
    assert _approve_counting(app, team, small) == _approve_counting(app, team, large)
