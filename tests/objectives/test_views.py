"""The objective pages through the browser's eyes: forms that keep what was typed,
conflicts explained, copying within a platform only, files in and out, and CSRF."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.objectives.models import Objective
from portfolio.people.models import Course, Role
from tests.objectives.test_importers import FLAT_MATRIX, NESTED_MATRIX, matrix_bytes

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def advisor(make_member):
    return make_member(Role.advisor)


@pytest.fixture
def browser(client, login, advisor):
    """The advisor's browser."""
    return login(client, advisor)


@pytest.fixture
def base(advisor) -> str:
    return f"/c/{advisor.course_id}/objectives"


def token_from(client, url: str) -> str:
    return TOKEN.search(client.get(url).get_data(as_text=True)).group(1)


def framework(app, course_id: int) -> list[tuple]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(Objective).where(Objective.course_id == course_id).order_by(Objective.position))
        return [(o.code, o.title, o.description, o.area, o.target, o.is_retired) for o in rows]


def codes(app, course_id: int) -> list[str]:
    return [row[0] for row in framework(app, course_id)]


def upload(content: bytes, name: str = "objectives.csv"):
    return (io.BytesIO(content), name)


# --- Reading ---


def test_interns_read_the_active_objectives_grouped_by_area(app, make_client, login, advisor, make_member,
                                                            make_objective):
    course = advisor.course_id
    make_objective(course, code="IC.1", title="Adapts communication", area="Intercultural competence")
    make_objective(course, code="GEN.1", title="Keeps a journal")
    make_objective(course, code="IC.2", title="Reflects on assumptions", area="Intercultural competence")
    make_objective(course, code="OLD.1", title="Old objective", retired=True)
    intern = login(make_client(), make_member(Role.intern, course_id=course))
    page = intern.get(f"/c/{course}/objectives").get_data(as_text=True)
    assert '<h2 id="area-1">Intercultural competence</h2>' in page
    assert '<h2 id="area-2">Without a competency area</h2>' in page
    assert page.index("IC.1") < page.index("IC.2") < page.index("GEN.1")  # the area's objectives stay together
    assert '<th scope="col">Code</th>' in page and '<th scope="row"><code>IC.1</code></th>' in page
    assert "3 approved tasks" in page
    assert "OLD.1" not in page and "<form" not in page and "Add an objective" not in page


def test_advisors_also_see_retired_objectives_marked_in_words_and_the_actions(browser, base, make_objective):
    course = int(base.split("/")[2])
    make_objective(course, code="A.1")
    make_objective(course, code="OLD.1", retired=True)
    page = browser.get(base).get_data(as_text=True)
    assert "OLD.1" in page and "<strong>Retired</strong>" in page
    for action in ("Add an objective", "Import", "Export as CSV", "Copy from another course", "Move down",
                   "Reactivate", "Retire", "Delete"):
        assert action in page


def test_descriptions_are_plain_text_rendered_escaped(browser, base):
    token = token_from(browser, base + "/new")
    browser.post(base + "/new", data={"csrf_token": token, "code": "X.1", "title": "<b>Bold</b> claim",
                                      "description": "Uses <script>alert(1)</script>\nsecond line", "target": "2"})
    page = browser.get(base).get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Bold&lt;/b&gt; claim" in page and "<p>second line</p>" in page


# --- Create and edit ---


def test_an_advisor_adds_an_objective(app, browser, base, advisor):
    token = token_from(browser, base + "/new")
    response = browser.post(base + "/new", data={
        "csrf_token": token, "code": " A.1 ", "title": "Negotiates with clients", "description": "In English.",
        "area": "Communication", "target": "4"})
    assert response.status_code == 302
    with app.app_context():
        objective_id = db.session.scalar(sa.select(Objective.id))
    assert response.headers["Location"].endswith(f"{base}#objective-{objective_id}")
    assert framework(app, advisor.course_id) == [
        ("A.1", "Negotiates with clients", "In English.", "Communication", 4, False)]
    assert "Objective A.1 added." in browser.get(base).get_data(as_text=True)


def test_invalid_input_is_shown_next_to_the_field_and_everything_typed_stays(app, browser, base, advisor):
    token = token_from(browser, base + "/new")
    response = browser.post(base + "/new", data={
        "csrf_token": token, "code": "", "title": "Keep this title", "description": "And this text",
        "area": "Some area", "target": "lots"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="code-error" role="alert">Enter a code, such as A.1.</p>', page)
    assert '<p class="error" id="target-error" role="alert">Enter a whole number from 1 to 1000.</p>' in page
    assert 'aria-invalid="true"' in page
    assert 'value="Keep this title"' in page and "And this text</textarea>" in page
    assert 'value="Some area"' in page and 'value="lots"' in page
    for target in ("0", "1001", "2.5"):
        bad = browser.post(base + "/new", data={"csrf_token": token, "code": "A.1", "title": "T", "target": target})
        assert bad.status_code == 422 and "Enter a whole number from 1 to 1000." in bad.get_data(as_text=True)
    long = browser.post(base + "/new", data={"csrf_token": token, "code": "C" * 33, "title": "T", "target": "3"})
    assert long.status_code == 422 and "At most 32 characters." in long.get_data(as_text=True)
    assert framework(app, advisor.course_id) == []


def test_a_duplicate_code_is_a_field_error(app, browser, base, advisor, make_objective):
    make_objective(advisor.course_id, code="A.1", title="First")
    token = token_from(browser, base + "/new")
    response = browser.post(base + "/new", data={"csrf_token": token, "code": "A.1", "title": "Second",
                                                 "target": "3"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="code-error" role="alert">Another objective of this course already has this code.' in page
    assert 'value="Second"' in page
    assert codes(app, advisor.course_id) == ["A.1"]


def test_an_advisor_edits_an_objective_and_its_code_stays_unique(app, browser, base, advisor, make_objective):
    make_objective(advisor.course_id, code="A.1")
    objective = make_objective(advisor.course_id, code="A.2", title="Old title", area="Area", target=5)
    url = f"{base}/{objective}/edit"
    form = browser.get(url).get_data(as_text=True)
    assert 'value="Old title"' in form and 'value="5"' in form
    token = TOKEN.search(form).group(1)
    taken = browser.post(url, data={"csrf_token": token, "code": "A.1", "title": "New title", "target": "5"})
    assert taken.status_code == 422 and "already has this code" in taken.get_data(as_text=True)
    ok = browser.post(url, data={"csrf_token": token, "code": "A.2", "title": "New title", "area": "",
                                 "target": "6"})
    assert ok.status_code == 302
    assert framework(app, advisor.course_id)[1] == ("A.2", "New title", "", None, 6, False)


def test_another_courses_objective_is_not_found_from_this_course(browser, base, make_member, make_objective):
    foreign = make_objective(make_member(Role.advisor).course_id)
    token = token_from(browser, base + "/new")
    assert browser.get(f"{base}/{foreign}/edit").status_code == 404
    for action in ("retire", "reactivate", "delete", "move"):
        response = browser.post(f"{base}/{foreign}/{action}", data={"csrf_token": token, "direction": "up"})
        assert response.status_code == 404


# --- Order, retiring, deleting ---


def test_moving_up_and_down(app, browser, base, advisor, make_objective):
    ids = [make_objective(advisor.course_id, code=c) for c in ("A", "B", "C")]
    token = token_from(browser, base + "/new")
    assert browser.post(f"{base}/{ids[2]}/move", data={"csrf_token": token, "direction": "up"}).status_code == 302
    assert codes(app, advisor.course_id) == ["A", "C", "B"]
    browser.post(f"{base}/{ids[0]}/move", data={"csrf_token": token, "direction": "down"})
    assert codes(app, advisor.course_id) == ["C", "A", "B"]
    browser.post(f"{base}/{ids[1]}/move", data={"csrf_token": token, "direction": "down"})  # already last
    assert codes(app, advisor.course_id) == ["C", "A", "B"]
    with app.app_context():
        assert sorted(db.session.scalars(sa.select(Objective.position))) == [1, 2, 3]
    assert browser.post(f"{base}/{ids[0]}/move", data={"csrf_token": token, "direction": "left"}).status_code == 400


def test_retire_hides_an_objective_from_interns_and_reactivate_brings_it_back(app, browser, base, advisor,
                                                                               make_client, make_member, login,
                                                                               make_objective):
    objective = make_objective(advisor.course_id, code="A.1")
    intern = login(make_client(), make_member(Role.intern, course_id=advisor.course_id))
    token = token_from(browser, base + "/new")
    assert browser.post(f"{base}/{objective}/retire", data={"csrf_token": token}).status_code == 302
    # The code as the page shows it: a bare "A.1" can turn up inside a random CSRF token.
    assert "<code>A.1</code>" not in intern.get(base).get_data(as_text=True)
    assert "<strong>Retired</strong>" in browser.get(base).get_data(as_text=True)
    again = browser.post(f"{base}/{objective}/retire", data={"csrf_token": token})
    assert again.status_code == 409 and "already retired" in again.get_data(as_text=True)
    assert browser.post(f"{base}/{objective}/reactivate", data={"csrf_token": token}).status_code == 302
    assert "<code>A.1</code>" in intern.get(base).get_data(as_text=True)


def test_a_used_objective_cannot_be_deleted_an_unused_one_can(app, browser, base, advisor, make_member,
                                                             make_objective, make_entry):
    used = make_objective(advisor.course_id, code="USED")
    unused = make_objective(advisor.course_id, code="UNUSED")
    make_entry(make_member(Role.intern, course_id=advisor.course_id), tasks=[("Met the client", "2", [used])])
    page = browser.get(base).get_data(as_text=True)
    assert "used by 1 task" in page
    assert page.count("Delete<span") == 1  # offered for the unused objective only
    token = TOKEN.search(page).group(1)
    refused = browser.post(f"{base}/{used}/delete", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "This objective is used by 1 task; retire it instead." in refused.get_data(as_text=True)
    assert browser.post(f"{base}/{unused}/delete", data={"csrf_token": token}).status_code == 302
    assert codes(app, advisor.course_id) == ["USED"]


# --- Copying ---


def test_copy_from_a_course_of_the_same_platform(app, browser, base, advisor, make_course, make_objective):
    with app.app_context():
        platform_id = db.session.get(Course, advisor.course_id).platform_id
    last_year = make_course("Internship 2026", platform_id=platform_id)
    make_objective(last_year, code="A.1", title="Theirs", area="Area A", target=5)
    make_objective(last_year, code="A.2", title="Also theirs", area="Area A")
    make_objective(last_year, code="OLD", retired=True)
    make_course("Empty course", platform_id=platform_id)
    elsewhere = make_course("Other university")
    make_objective(elsewhere, code="Z.1")
    make_objective(advisor.course_id, code="A.1", title="Ours")

    page = browser.get(base + "/copy").get_data(as_text=True)
    assert "<th scope=\"row\">Internship 2026</th>" in page and "<td>2</td>" in page
    assert "Empty course" not in page and "Other university" not in page
    token = TOKEN.search(page).group(1)
    response = browser.post(base + "/copy", data={"csrf_token": token, "source_id": last_year})
    assert response.status_code == 302
    assert framework(app, advisor.course_id) == [
        ("A.1", "Ours", "", None, 3, False), ("A.2", "Also theirs", "", "Area A", 3, False)]
    flashes = browser.get(base).get_data(as_text=True)
    assert "Copied 1 objective from Internship 2026." in flashes
    assert "Skipped, because this course already has these codes: A.1." in flashes


def test_copy_from_another_platform_or_from_itself_is_not_found(app, browser, base, advisor, make_course,
                                                                make_objective):
    elsewhere = make_course("Other university")
    make_objective(elsewhere, code="Z.1")
    token = token_from(browser, base + "/new")
    for source in (elsewhere, advisor.course_id, 99999, "not-a-number"):
        assert browser.post(base + "/copy", data={"csrf_token": token, "source_id": source}).status_code == 404
    assert codes(app, advisor.course_id) == []


# --- Files ---


def test_csv_export_then_import_round_trip(app, client, make_client, login, advisor, base, make_member,
                                           make_objective):
    make_objective(advisor.course_id, code="A.1", title="Négocie, en français", area="Communication", target=4)
    make_objective(advisor.course_id, code="A.2", title='Writes "clear" minutes', retired=True)
    with app.app_context():
        objective = db.session.get(Objective, make_objective(advisor.course_id, code="B.1", title="Plans"))
        objective.description = "Line one\nLine two, with a comma"
        db.session.commit()
    login(client, advisor)
    export = client.get(base + "/export.csv")
    assert export.status_code == 200
    assert export.mimetype == "text/csv" and export.mimetype_params.get("charset") == "utf-8"
    assert export.headers["Content-Disposition"].startswith("attachment;")
    assert not export.data.startswith(b"\xef\xbb\xbf")
    assert export.data.decode().splitlines()[0] == "code,title,description,area,target,retired"

    other = make_member(Role.advisor)
    elsewhere = login(make_client(), other)
    target_base = f"/c/{other.course_id}/objectives"
    token = token_from(elsewhere, target_base + "/import")
    response = elsewhere.post(target_base + "/import", data={
        "csrf_token": token, "format": "csv", "file": upload(export.data)})
    assert response.status_code == 302
    assert framework(app, other.course_id) == framework(app, advisor.course_id)
    assert "3 objectives added, 0 updated" in elsewhere.get(target_base).get_data(as_text=True)

    # The same file again changes nothing.
    elsewhere.post(target_base + "/import", data={"csrf_token": token, "format": "csv", "file": upload(export.data)})
    assert "0 objectives added, 0 updated" in elsewhere.get(target_base).get_data(as_text=True)


def test_csv_import_updates_known_codes_and_adds_new_ones_at_the_end(app, browser, base, advisor, make_objective):
    make_objective(advisor.course_id, code="A.1", title="Old", target=7)
    make_objective(advisor.course_id, code="A.2", title="Unchanged")
    token = token_from(browser, base + "/import")
    content = b"code,title,area\nB.1,Brand new,New area\nA.1,Renamed,\n"
    assert browser.post(base + "/import", data={"csrf_token": token, "format": "csv",
                                                "file": upload(content)}).status_code == 302
    assert framework(app, advisor.course_id) == [
        ("A.1", "Renamed", "", None, 7, False), ("A.2", "Unchanged", "", None, 3, False),
        ("B.1", "Brand new", "", "New area", 3, False)]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"code,title\nA.1,Renamed\nB.1,Good\n,Missing code\n", "line 4: the code is empty"),
        (b"code,title,target\nA.1,Renamed,3\nB.1,Good,none\n", "line 3: the target must be a whole number"),
        (b"code,title\nB.1,Good\nB.1,Twice\n", "line 3: the code B.1 appears again (first on line 2)"),
        (b"code;title\nB.1;Semicolons\n", "line 1: unknown columns \u201ccode;title\u201d"),
        (b"title\nNo codes\n", "line 1: the header lacks the columns code"),
        ("code,title\nB.1,Caf\u00e9\n".encode("cp1252"), "The file is not UTF-8 text"),
        (b"code,title\n" + b"".join(b"C%d,t\n" % i for i in range(501)), "more than 500 objectives"),
        (b"code,title,description\nB.1,t," + b"x" * (1024 * 1024) + b"\n", "larger than 1 MB"),
    ],
)
def test_a_malformed_csv_imports_nothing_and_says_why(app, browser, base, advisor, make_objective, content, message):
    make_objective(advisor.course_id, code="A.1", title="Original")
    before = framework(app, advisor.course_id)
    token = token_from(browser, base + "/import")
    response = browser.post(base + "/import", data={"csrf_token": token, "format": "csv", "file": upload(content)})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'id="file-error" role="alert"' in page
    assert '<option selected value="csv">' in page  # the format chosen stays chosen
    assert framework(app, advisor.course_id) == before


def test_a_file_with_many_problems_lists_the_first_twenty(browser, base):
    token = token_from(browser, base + "/import")
    content = b"code,title\n" + b"".join(b",no code %d\n" % i for i in range(25))
    page = browser.post(base + "/import", data={"csrf_token": token, "format": "csv",
                                                "file": upload(content)}).get_data(as_text=True)
    assert "Nothing was imported:" in page
    assert "<li>line 21: the code is empty</li>" in page and "line 22:" not in page
    assert "<li>… and 5 more problems.</li>" in page


def test_import_without_a_file_asks_for_one(browser, base):
    token = token_from(browser, base + "/import")
    response = browser.post(base + "/import", data={"csrf_token": token, "format": "matrix"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a file to import." in page and '<option selected value="matrix">' in page


@pytest.mark.parametrize("document", [NESTED_MATRIX, FLAT_MATRIX], ids=["nested", "flat"])
def test_a_mahara_matrix_becomes_objectives_grouped_by_standard(app, browser, base, advisor, document):
    token = token_from(browser, base + "/import")
    response = browser.post(base + "/import", data={
        "csrf_token": token, "format": "matrix", "file": upload(matrix_bytes(document), "framework.matrix")})
    assert response.status_code == 302
    imported = framework(app, advisor.course_id)
    elements = 5 if document is NESTED_MATRIX else 3
    assert len(imported) == elements and all(row[4] == 3 for row in imported)
    page = browser.get(base).get_data(as_text=True)
    assert f"{elements} objectives added, 0 updated" in page
    if document is NESTED_MATRIX:
        assert imported[0] == ("IC.1", "Adapts communication to the host culture",
                               "Notices how colleagues give feedback & adjusts.", "Intercultural competence", 3, False)
        assert "Professional practice</h2>" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"framework": {"name": "Broken", "standards": [', "The file is not valid JSON"),
        (b'{"name": "No framework here"}', "it has no \u201cframework\u201d"),
        (b'{"framework": {"standards": [{"shortname": "S", "standardelements": '
         b'[{"shortname": "S.1", "name": "Fine"}, {"name": "No shortname"}]}]}}',
         "standard 1, element 2: the shortname is empty"),
    ],
)
def test_a_malformed_matrix_imports_nothing_and_says_why(app, browser, base, advisor, make_objective, content,
                                                        message):
    make_objective(advisor.course_id, code="A.1")
    before = framework(app, advisor.course_id)
    token = token_from(browser, base + "/import")
    response = browser.post(base + "/import", data={
        "csrf_token": token, "format": "matrix", "file": upload(content, "framework.matrix")})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert framework(app, advisor.course_id) == before


# --- CSRF ---


@pytest.mark.parametrize("action", ["/new", "/import", "/copy", "/{id}/edit", "/{id}/move", "/{id}/retire",
                                    "/{id}/reactivate", "/{id}/delete"])
def test_a_post_without_the_csrf_token_is_refused(app, browser, base, advisor, make_objective, action):
    make_objective(advisor.course_id, code="A.0")
    objective = make_objective(advisor.course_id, code="A.1", retired=action.endswith("reactivate"))
    before = framework(app, advisor.course_id)
    data = {"code": "B.1", "title": "T", "target": "3", "direction": "up", "source_id": "1",
            "format": "csv", "file": upload(b"code,title\nB.1,T\n")}
    response = browser.post(base + action.format(id=objective), data=data)
    assert response.status_code == 400
    assert framework(app, advisor.course_id) == before
