from __future__ import annotations

import re


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def token_for(client, course_id: int) -> str:
    return csrf_token(client.get(f"/c/{course_id}/preferences").get_data(as_text=True))


def task_fields(*tasks) -> dict:
    """Form fields for tasks given as (description, hours, [objective ids])."""
    data = {}
    for i, (description, hours, objectives) in enumerate(tasks):
        data[f"tasks-{i}-description"] = description
        data[f"tasks-{i}-hours"] = hours
        data[f"tasks-{i}-objectives"] = [str(o) for o in objectives]
    return data


def shown_hash(page: str) -> str:
    found = re.search(r'name="content_hash" value="([0-9a-f]{64})"', page)
    assert found, "no content hash on the page"
    return found.group(1)


def hash_of(app, entry_id: int) -> str:
    from portfolio.db import db
    from portfolio.journal.models import Entry
    from portfolio.signoff.operations import content_hash

    with app.app_context():
        return content_hash(db.session.get(Entry, entry_id))


def request_as(make_client, login, people: dict, who: str, course_id: int, method: str, url: str, data: dict):
    """One cell of an access matrix: ``url`` as ``who`` (``people[who]`` None: signed out, posting
    a token that is valid for someone else, so only the missing session can refuse it)."""
    client = make_client()
    if people[who] is not None:
        login(client, people[who])
        token = token_for(client, people[who].course_id)
    else:
        token = token_for(login(make_client(), people["intern"]), course_id)
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": token, **data})


def assert_answer(response, who: str, method: str, expected: dict) -> None:
    if who == "anonymous" and method == "POST":
        assert response.status_code in (400, 401)  # no session: the CSRF check may refuse first
    else:
        assert response.status_code == expected[who], response.get_data(as_text=True)[:400]
