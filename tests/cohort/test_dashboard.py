"""The cohort dashboard: the figures of each intern, sorting, filtering, and a page
whose number of queries does not grow with the cohort."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portfolio.cohort import standing
from portfolio.cohort.models import InternStanding
from portfolio.db import db, utcnow
from portfolio.grading.models import DeliveryState, Grade, GradeState, ScoreDelivery
from portfolio.journal.models import Entry, EntryState
from portfolio.people.models import Course, Role, User
from tests.cohort.conftest import ZONE, this_monday, weeks_ago


def rows_of(html: str) -> list[str]:
    """The interns' names in the order the main table lists them."""
    body = html.split('id="cohort-caption"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'/journal">([^<]+)</a>', body)


def csv_rows(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def course(app, make_member, make_objective, make_placement, make_entry, fake_lms):
    """Amara has a week of every kind; Zed never launched and has no placement; Lin has a
    released grade the LMS refused."""
    fake_lms()
    amara = make_member(Role.intern, name="Amara Okafor")
    course_id = amara.course_id
    zed = make_member(Role.intern, course_id=course_id, name="Zed Ndlovu")
    lin = make_member(Role.intern, course_id=course_id, name="Lin Chen")
    advisor = make_member(Role.advisor, course_id=course_id, name="Helen Schmidt", timezone="America/New_York")
    o1 = make_objective(course_id, code="COM", title="Communicate", target=3)
    o2 = make_objective(course_id, code="TEAM", title="Work in a team", target=4)
    make_placement(amara, start=weeks_ago(5), end=this_monday() + timedelta(weeks=3, days=4), timezone=ZONE,
                   hours_per_week="38", host="Kiwi Design Studio", country="NZ")
    make_placement(lin, start=weeks_ago(1), end=this_monday() + timedelta(weeks=8), timezone=ZONE,
                   hours_per_week="20", host="Atelier Lyon", country="FR")
    make_entry(amara, week_start=weeks_ago(5), state=EntryState.approved,
               tasks=[("a", "7.5", [o1]), ("b", "2", [o1, o2])])
    waiting = make_entry(amara, week_start=weeks_ago(4), state=EntryState.submitted, tasks=[("c", "5", [o2])])
    # weeks_ago(3): nothing at all → missing
    make_entry(amara, week_start=weeks_ago(2), reflection="", tasks=[])  # an empty draft of a past week → missing
    make_entry(amara, week_start=weeks_ago(1), state=EntryState.changes_requested, tasks=[("d", "1", [])])
    make_entry(amara, week_start=this_monday(), tasks=[("e", "3", [o1])])
    make_entry(lin, week_start=weeks_ago(1), state=EntryState.approved, tasks=[("f", "20", [o2])])
    with app.app_context():
        now = utcnow()
        db.session.execute(sa.update(Entry).where(Entry.id == waiting)
                           .values(submitted_at=now - timedelta(days=3, hours=2)))
        db.session.execute(sa.update(User).where(User.id.in_([amara.user_id, lin.user_id])).values(last_seen_at=now))
        db.session.add(Grade(course_id=course_id, intern_id=amara.user_id, state=GradeState.draft, score=5,
                             score_maximum=10))
        released = Grade(course_id=course_id, intern_id=lin.user_id, state=GradeState.released, score=9,
                         score_maximum=10, released_at=now)
        db.session.add(released)
        db.session.flush()
        db.session.add(ScoreDelivery(grade_id=released.id, course_id=course_id, state=DeliveryState.failed,
                                     score_given=9, score_maximum=10, timestamp=now, last_error="400"))
        db.session.commit()
    return {"course": course_id, "amara": amara, "zed": zed, "lin": lin, "advisor": advisor, "o1": o1, "o2": o2}


def test_each_intern_has_their_figures(client, login, course):
    login(client, course["advisor"])
    response = client.get(f"/c/{course['course']}/cohort")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert rows_of(html) == ["Amara Okafor", "Lin Chen", "Zed Ndlovu"]

    rows = {r["Name"]: r for r in csv_rows(client.get(f"/c/{course['course']}/cohort.csv"))}
    amara, zed, lin = rows["Amara Okafor"], rows["Zed Ndlovu"], rows["Lin Chen"]
    assert (amara["Weeks approved"], amara["Weeks waiting"], amara["Weeks missing"]) == ("1", "1", "2")
    assert (amara["Hours logged"], amara["Hours expected to date"]) == ("18.50", "228.00")  # 6 weeks × 38
    assert amara["Days waiting"] == "3"
    # the oldest wait, in the advisor's own time zone (New York is UTC-5 or UTC-4)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d-0[45]:00", amara["Oldest waiting since"])
    assert (amara["COM Communicate"], amara["TEAM Work in a team"]) == ("3", "2")
    assert (amara["Host organisation"], amara["Country"], amara["Grade"], amara["Sent to the LMS"]) == \
        ("Kiwi Design Studio", "New Zealand", "draft", "")
    assert (zed["Opened the tool"], zed["Host organisation"], zed["Weeks missing"], zed["Grade"]) == \
        ("no", "", "0", "not graded")
    assert (lin["Weeks approved"], lin["Weeks missing"], lin["Grade"], lin["Sent to the LMS"]) == \
        ("1", "0", "released", "sending failed")
    assert (lin["Hours logged"], lin["Hours expected to date"]) == ("20.00", "40.00")

    # The page shows the same, in words and symbols, not colour alone.
    assert "never launched" in html and "No placement yet" in html and "sending failed" in html
    assert "3 days" in html and "New Zealand" in html
    assert f'/c/{course["course"]}/interns/{course["amara"].user_id}/journal' in html
    # the heatmap: numbers as text, each with its label
    assert "3<span class=\"visually-hidden\"> tasks for COM, target 3</span>" in html
    assert 'role="region" aria-labelledby="cohort-caption" tabindex="0"' in html


def test_the_rows_come_without_their_templates_indentation(client, login, course):
    login(client, course["advisor"])
    html = client.get(f"/c/{course['course']}/cohort").get_data(as_text=True)
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, re.S)
    assert len(bodies) == 2 and all("Amara Okafor" in body for body in bodies)
    rows = [row for body in bodies for row in re.findall(r"<tr>.*?</tr>", body, re.S)]
    assert len(rows) == 6  # three interns, in each table
    assert all(re.search(r"\n[ \t]|\n\n", row) is None for row in rows)
    assert '<span aria-hidden="true">○</span> not graded</span>' in html  # the spaces that show stay


def test_the_weeks_agree_with_the_interns_own_journal_page(app, course):
    from portfolio.cohort import summary
    from portfolio.journal import progress
    from portfolio.journal.queries import entries_of_intern
    from portfolio.placements.operations import placement_of

    with app.test_request_context():
        assert summary.refresh(course["course"]) == 3
        db.session.commit()
        assert summary.refresh(course["course"]) == 0  # kept by the first call
        for row in summary.listing(course["course"], summary.objectives_of(db.session.get(Course, course["course"]))).rows:
            placement = placement_of(course["course"], row.user.id)
            entries = list(db.session.scalars(entries_of_intern(course["course"], row.user.id)))
            expected = progress.compute(placement, entries, [])
            assert (row.approved, row.submitted, row.missing) == (
                expected.count(progress.WeekStatus.approved), expected.count(progress.WeekStatus.submitted),
                len(expected.missing)), row.name
            assert row.hours_logged == expected.hours_logged
            assert row.hours_expected == expected.hours_expected_to_date


def test_sorting_is_by_any_column_and_says_so(client, login, course):
    login(client, course["advisor"])
    base = f"/c/{course['course']}/cohort"
    html = client.get(base + "?sort=missing&dir=desc").get_data(as_text=True)
    assert rows_of(html)[0] == "Amara Okafor"
    assert re.search(r'<th scope="col" aria-sort="descending">\s*<a href="[^"]*sort=missing&amp;dir=asc', html)
    # no placement: last whichever the direction
    assert rows_of(client.get(base + "?sort=dates&dir=asc").get_data(as_text=True)) == \
        ["Amara Okafor", "Lin Chen", "Zed Ndlovu"]
    assert rows_of(client.get(base + "?sort=dates&dir=desc").get_data(as_text=True)) == \
        ["Lin Chen", "Amara Okafor", "Zed Ndlovu"]
    assert rows_of(client.get(base + "?sort=grade&dir=desc").get_data(as_text=True)) == \
        ["Lin Chen", "Amara Okafor", "Zed Ndlovu"]
    assert rows_of(client.get(base + f"?sort=objective-{course['o2']}&dir=desc").get_data(as_text=True))[0] == \
        "Amara Okafor"
    # what the page does not know falls back to the default instead of failing
    odd = client.get(base + "?sort=password&dir=sideways&status=%00&q=" + "x" * 5000)
    assert odd.status_code == 200
    assert rows_of(client.get(base + "?sort=nope").get_data(as_text=True)) == ["Amara Okafor", "Lin Chen", "Zed Ndlovu"]


@pytest.mark.parametrize("query, names", [
    ("status=waiting", ["Amara Okafor"]),
    ("status=missing", ["Amara Okafor"]),
    ("status=never_launched", ["Zed Ndlovu"]),
    ("status=not_graded", ["Zed Ndlovu"]),
    ("status=sync_failed", ["Lin Chen"]),
    ("q=CHEN", ["Lin Chen"]),
    ("q=zed&status=waiting", []),
    ("q=%25", []),  # a search for "%" or "_" looks for that character, not for anything
    ("q=_", []),
    ("q=example.test", ["Amara Okafor", "Lin Chen", "Zed Ndlovu"]),  # the email too
])
def test_filters(client, login, course, query, names):
    login(client, course["advisor"])
    html = client.get(f"/c/{course['course']}/cohort?{query}").get_data(as_text=True)
    assert rows_of(html) == names
    assert f"{len(names)} of 3 interns shown." in html
    exported = csv_rows(client.get(f"/c/{course['course']}/cohort.csv?{query}"))
    assert [r["Name"] for r in exported] == names


def test_the_csv_keeps_formulas_as_text(app, client, login, make_member, make_placement, fake_lms):
    fake_lms(supported=False)
    evil = make_member(Role.intern, name='=HYPERLINK("http://evil.example","x")', email="@evil@example.test")
    course_id = evil.course_id
    make_member(Role.intern, course_id=course_id, name="+1 caller")
    make_member(Role.intern, course_id=course_id, name="-minus")
    make_placement(evil, host="@Org")
    advisor = make_member(Role.advisor, course_id=course_id)
    login(client, advisor)
    response = client.get(f"/c/{course_id}/cohort.csv")
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith(f'attachment; filename="cohort-{course_id}-')
    rows = csv_rows(response)
    names = sorted(r["Name"] for r in rows)
    assert names == ["'+1 caller", "'-minus", "'=HYPERLINK(\"http://evil.example\",\"x\")"]
    evil_row = next(r for r in rows if "HYPERLINK" in r["Name"])
    assert evil_row["Email"] == "'@evil@example.test" and evil_row["Host organisation"] == "'@Org"
    # every text cell that a spreadsheet would read as a formula is guarded
    for row in rows:
        for value in row.values():
            assert not value or value[0] not in "=+-@", value


def count_statements(app, client, url) -> int:
    from sqlalchemy import event

    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    return len(seen)


def test_the_number_of_queries_does_not_grow_with_the_cohort(app, make_client, login, make_course, make_member,
                                                              make_objective, bulk_cohort, fake_lms, capsys):
    fake_lms()
    small, large = make_course(title="Small"), make_course(title="Large")
    counts, cold, ids = {}, {}, {}
    for course_id, n in ((small, 5), (large, 200)):
        objectives = [make_objective(course_id, code=f"O{k}", target=2) for k in range(3)]
        ids[course_id] = bulk_cohort(course_id, n, objectives, prefix=f"c{course_id}")
        advisor = make_member(Role.advisor, course_id=course_id)
        client = login(make_client(), advisor)
        client.get(f"/c/{course_id}/cohort")  # the first request of a client warms caches; not counted
        counts[n] = count_statements(app, client, f"/c/{course_id}/cohort")
        with app.app_context():  # every intern's figures out of date: computed again, in as many statements
            standing.forget(db.session.connection(), course_id=course_id)
            db.session.commit()
        cold[n] = count_statements(app, client, f"/c/{course_id}/cohort")

        page = client.get(f"/c/{course_id}/cohort").get_data(as_text=True)
        if n <= 50:
            assert f"{n} of {n} interns shown." in page
        else:  # fifty a page, in name order
            assert f"{n} of {n} interns match; this page shows 1 to 50." in page and "Page 1 of 4" in page
            assert "Bulk Intern 0049" in page and "Bulk Intern 0050" not in page
            last = client.get(f"/c/{course_id}/cohort?page=4").get_data(as_text=True)
            assert "this page shows 151 to 200." in last and "Bulk Intern 0199" in last and "Bulk Intern 0149" not in last
            assert 'rel="prev"' in last and 'rel="next"' not in last
            beyond = client.get(f"/c/{course_id}/cohort?page=99").get_data(as_text=True)
            assert "Page 4 of 4" in beyond  # a page past the end shows the last one
        rows = {r["Name"]: r for r in csv_rows(client.get(f"/c/{course_id}/cohort.csv"))}
        assert len(rows) == n
        for i in (0, 1, n - 1):
            row = rows[f"Bulk Intern {i:04d}"]
            # weeks: one approved, one waiting, three past weeks empty; 6 weeks × 10 h expected, 2 × 2 × 4 h logged
            assert (row["Weeks approved"], row["Weeks waiting"], row["Weeks missing"]) == ("1", "1", "3")
            assert (row["Hours logged"], row["Hours expected to date"], row["Days waiting"]) == ("16.00", "60.00", "20")
            assert row["Opened the tool"] == ("yes" if i % 3 else "no")
            assert row["Grade"] == ("released" if i % 2 == 0 else "not graded")
            assert row["Sent to the LMS"] == ("in the LMS gradebook" if i % 2 == 0 else "")
            # tasks at position 0 carry O0, at position 1 carry O1: two of each over the two weeks
            assert next(v for k, v in row.items() if k.startswith("O0 ")) == "2"
            assert next(v for k, v in row.items() if k.startswith("O2 ")) == "0"
    with capsys.disabled():
        print(f"\ncohort dashboard SQL statements: {counts[5]} for 5 interns, {counts[200]} for 200 interns; "
              f"computing every intern's figures: {cold[5]} and {cold[200]}")
    assert counts[5] == counts[200] and cold[5] == cold[200]
    # The usual view: the person (with membership and course), and one statement for the
    # page, its counts and whether any figures are out of date; the course's objectives are
    # kept by the process. Computing: that page says they are; two reads, the write in a
    # savepoint (on PostgreSQL with its lock timeout set and reset, and the rows no writer
    # holds found first), and the page again; the commit keeps what the view had loaded.
    assert counts[5] <= 2 and cold[5] <= counts[5] + 10


def test_rows_kept_between_views_show_every_change_and_each_reader_s_language(app, make_client, login, course,
                                                                             make_member):
    """Each row's HTML is kept by everything it shows: a changed figure, name or grade
    shows at once, and a reader in another language or time zone gets their own words."""
    english = login(make_client(), course["advisor"])
    french = login(make_client(), make_member(Role.advisor, course_id=course["course"], locale="fr",
                                              timezone="Asia/Tokyo"))
    url = f"/c/{course['course']}/cohort"

    def zed_row(client) -> str:
        html = client.get(url).get_data(as_text=True)
        return html.split(f"/interns/{course['zed'].user_id}/journal", 1)[1].split("</tr>", 1)[0]

    assert "never launched" in zed_row(english) and "not graded" in zed_row(english)
    assert "outil jamais ouvert" in zed_row(french) and "never launched" not in zed_row(french)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == course["zed"].user_id)
                           .values(name="Zed Ndlovu-Berg", last_seen_at=utcnow()))
        db.session.add(Grade(course_id=course["course"], intern_id=course["zed"].user_id, state=GradeState.draft,
                             score=1, score_maximum=10))
        db.session.commit()
    row = zed_row(english)
    assert "Zed Ndlovu-Berg" in row and "never launched" not in row and "draft" in row
    assert "outil jamais ouvert" not in zed_row(french)
    # Amara's oldest wait in each reader's own zone: New York and Tokyo are never the same clock.
    waits = [client.get(url).get_data(as_text=True).split("Amara Okafor", 1)[1].split("</tr>", 1)[0]
             for client in (english, french)]
    assert waits[0] != waits[1]


def test_a_page_by_name_computes_its_own_rows_and_a_page_by_figures_the_whole_cohort(app, make_client, login, make_course,
                                                                                    make_member, make_objective,
                                                                                    bulk_cohort, fake_lms):
    fake_lms()
    course_id = make_course(title="Large")
    ids = bulk_cohort(course_id, 120, [make_objective(course_id, code="O1", target=2)])
    client = login(make_client(), make_member(Role.advisor, course_id=course_id))

    def computed() -> set[int]:
        with app.app_context():
            return set(db.session.scalars(sa.select(InternStanding.intern_id).where(
                InternStanding.course_id == course_id, InternStanding.computed_version.is_not(None))))

    page = client.get(f"/c/{course_id}/cohort").get_data(as_text=True)
    assert "Bulk Intern 0000" in page and "<td class=\"num\">1</td>" in page  # figures shown, freshly computed
    assert computed() == set(ids[:50])  # the first page's interns, no one else yet
    client.get(f"/c/{course_id}/cohort?page=3")
    assert computed() == set(ids[:50]) | set(ids[100:])
    client.get(f"/c/{course_id}/cohort?sort=missing")  # the order depends on everyone's figures
    assert computed() == set(ids)


def test_the_page_kept_around_the_rows_shows_every_change_and_each_reader_s_words(app, make_client, login, course,
                                                                                 make_member, make_objective,
                                                                                 fake_lms):
    """The page around the rows (roster, filter, counts, headers, caption) is kept as HTML
    too: a new objective, a renamed course, a new intern or a roster the LMS now offers show
    at once; each reader gets their own language and zone, and their own CSRF token."""
    english = login(make_client(), course["advisor"])
    french = login(make_client(), make_member(Role.advisor, course_id=course["course"], locale="fr",
                                              timezone="Asia/Tokyo"))
    url = f"/c/{course['course']}/cohort"

    def page(client) -> str:
        response = client.get(url)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    first = page(english)
    assert "3 of 3 interns shown." in first and "Dates and times in America/New_York." in first
    assert "Sync roster" in first and "csrf-slot" not in first and "intern-rows" not in first
    assert "Ndlovu" in first.split("</thead>", 1)[1].split("</table>", 1)[0]  # the rows are in their slot
    in_french = page(french)
    assert "Asia/Tokyo" in in_french and "Synchroniser" in in_french and "Sync roster" not in in_french
    tokens = {client: re.search(r'<section class="roster".*?name="csrf_token" value="([^"]+)"', page(client),
                                re.S).group(1) for client in (english, french)}
    assert tokens[english] != tokens[french]  # each session's own

    make_objective(course["course"], code="LEAD", title="Lead a meeting")
    make_member(Role.intern, course_id=course["course"], name="Noa Levi")
    with app.app_context():
        from portfolio.people.models import Course

        db.session.execute(sa.update(Course).where(Course.id == course["course"]).values(title="Spring placements"))
        db.session.commit()
    again = page(english)
    assert "4 of 4 interns shown." in again and "LEAD" in again and "Interns of Spring placements." in again
    fake_lms(supported=False)
    assert "Sync roster" not in page(english)
