"""Reading frameworks from files: every malformed file is refused whole, with messages that
name the line (CSV) or the standard and element (.matrix)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from portfolio.objectives.importers import ImportProblem, export_csv, parse_csv, parse_matrix

# A framework as an institution keeps it in Mahara, elements nested in their standards.
NESTED_MATRIX = {
    "framework": {
        "institution": "all",
        "name": "International internship competences",
        "description": "<p>What an intern abroad works towards, after the faculty's internship guide.</p>",
        "selfassess": False,
        "standards": [
            {
                "shortname": "IC",
                "name": "Intercultural competence",
                "description": "Working with people whose habits differ from one's own.",
                "standardid": 1,
                "priority": 1,
                "standardelements": [
                    {"shortname": "IC.1", "name": "Adapts communication to the host culture",
                     "description": "<p>Notices <em>how</em> colleagues give feedback &amp; adjusts.</p>",
                     "standardelementid": 1, "parentelementid": None},
                    {"shortname": "IC.2", "name": "Reflects on own cultural assumptions",
                     "description": "Names one assumption that changed during the placement.",
                     "standardelementid": 2, "parentelementid": None},
                    {"shortname": "IC.2.1", "name": "Discusses the change with the supervisor",
                     "description": "", "standardelementid": 3, "parentelementid": 2},
                ],
            },
            {
                "shortname": "PP",
                "name": "Professional practice",
                "description": "",
                "standardid": 2,
                "priority": 2,
                "standardelements": [
                    {"shortname": "PP.1", "name": "Plans and prioritises own tasks",
                     "description": "Keeps a weekly plan <script>alert(1)</script>and meets deadlines.",
                     "standardelementid": 4, "parentelementid": None},
                    {"shortname": "PP.2", "name": "Applies discipline knowledge to real problems",
                     "description": None, "standardelementid": 5, "parentelementid": None},
                ],
            },
        ],
    }
}

# The shape Mahara itself ships today: one list of elements beside the standards, linked by standardid.
FLAT_MATRIX = {
    "framework": {
        "institution": "all",
        "name": "Career readiness",
        "description": "Competencies employers look for.",
        "selfassess": False,
        "evidencestatuses": [{"begun": "Ready for assessment"}, {"completed": "Meets the competency"}],
        "standards": [
            {"shortname": "Readiness", "name": "Career readiness competencies", "description": "", "standardid": 1},
            {"shortname": "Digital", "name": "", "description": "", "standardid": 2},
        ],
        "standardelements": [
            {"shortname": "Critical thinking", "name": "Critical thinking and problem solving",
             "description": "Exercises sound reasoning. <a href=\"https://example.org\">Source</a>",
             "standardid": 1, "elementid": "1.0"},
            {"shortname": "Teamwork", "name": "Teamwork and collaboration", "description": "",
             "standardid": 1, "elementid": "2.0"},
            {"shortname": "Information technology application and beyond", "name": "IT application",
             "description": "", "standardid": "2", "elementid": "3.0"},
        ],
    }
}


def matrix_bytes(document) -> bytes:
    return json.dumps(document).encode()


def problems_of(parse, data: bytes) -> list[str]:
    with pytest.raises(ImportProblem) as caught:
        parse(data)
    return caught.value.messages


# --- CSV ---


def test_a_full_csv_file_is_read_with_every_column():
    rows = parse_csv(
        "code,title,description,area,target,retired\r\n"
        "A.1,Négocie avec des clients,\"Several lines,\nwith commas\",Communication,5,no\r\n"
        "A.2,Writes reports,,,,yes\r\n".encode()
    )
    assert [r.code for r in rows] == ["A.1", "A.2"]
    assert rows[0].changes == {"title": "Négocie avec des clients", "description": "Several lines,\nwith commas",
                               "area": "Communication", "target": 5, "retired": False}
    assert rows[1].changes == {"title": "Writes reports", "description": "", "area": None, "retired": True}


def test_only_code_and_title_are_required_and_columns_may_come_in_any_order():
    rows = parse_csv("\ufeffTitle , CODE\nPresents work,B.1\n\n".encode())  # Excel's BOM, spaces, case
    assert rows[0].code == "B.1" and rows[0].changes == {"title": "Presents work"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"code,title\r\n", "The file has a header but no objectives."),
        (b"code,description\nA,x\n", "line 1: the header lacks the columns title"),
        (b"code,title,targte\nA,x,3\n", "line 1: unknown columns \u201ctargte\u201d"),
        (b"code,title,title\nA,x,y\n", "line 1: the columns title appear twice"),
        (b"code,title\nA,one\nB,two\n,three\n", "line 4: the code is empty"),
        (b"code,title\nA,one\nB,\n", "line 3: the title is empty"),
        (b"code,title\n" + b"X" * 33 + b",long\n", "line 2: the code is longer than 32 characters"),
        (b"code,title\nA,one\nB,two\nA,again\n", "line 4: the code A appears again (first on line 2)"),
        (b"code,title,target\nA,one,abc\n", "line 2: the target must be a whole number from 1 to 1000"),
        (b"code,title,target\nA,one,0\n", "line 2: the target must be a whole number"),
        (b"code,title,target\nA,one,2.5\n", "line 2: the target must be a whole number"),
        (b"code,title,target\nA,one,1001\n", "line 2: the target must be a whole number"),
        (b"code,title,target\nA,one,-3\n", "line 2: the target must be a whole number"),
        ("code,title,target\nA,one,\u00b3\n".encode(), "line 2: the target must be a whole number"),
        (b"code,title,target\nA,one," + b"9" * 5000 + b"\n", "line 2: the target must be a whole number"),
        (b"code,title,retired\nA,one,maybe\n", "line 2: retired must be yes or no"),
        (b"code,title\nA,one,extra\n", "line 2: 3 cells but the header has 2 columns"),
        ("code,title\nA,Caf\u00e9\n".encode("latin-1"), "The file is not UTF-8 text"),
        (b"code,title\n" + b"".join(b"C%d,t\n" % i for i in range(501)), "more than 500 objectives"),
        (b"code,title,description\nA,one," + b"x" * (1024 * 1024) + b"\n", "larger than 1 MB"),
    ],
)
def test_a_malformed_csv_file_is_refused_with_a_clear_message(content, message):
    assert any(message in m for m in problems_of(parse_csv, content)), problems_of(parse_csv, content)


def test_every_bad_line_is_reported_at_once():
    messages = problems_of(parse_csv, b"code,title,target\n,one,3\nB,,3\nC,three,x\nD,four,4\n")
    assert messages == [
        "line 2: the code is empty",
        "line 3: the title is empty",
        "line 4: the target must be a whole number from 1 to 1000, not \u201cx\u201d",
    ]


def test_exactly_500_rows_are_accepted():
    assert len(parse_csv(b"code,title\n" + b"".join(b"C%d,t\n" % i for i in range(500)))) == 500


def test_export_then_parse_gives_back_the_same_framework():
    objectives = [
        SimpleNamespace(code="A.1", title='Says "no", politely', description="Line one\nLine two", area="Área",
                        target=4, is_retired=False),
        SimpleNamespace(code="A.2", title="Retired one", description="", area=None, target=1, is_retired=True),
    ]
    text = export_csv(objectives)
    assert text.splitlines()[0] == "code,title,description,area,target,retired"
    rows = parse_csv(text.encode())
    assert [(r.code, r.changes) for r in rows] == [
        ("A.1", {"title": 'Says "no", politely', "description": "Line one\nLine two", "area": "Área", "target": 4,
                 "retired": False}),
        ("A.2", {"title": "Retired one", "description": "", "area": None, "target": 1, "retired": True}),
    ]


# --- Mahara SmartEvidence .matrix ---


def test_a_nested_matrix_gives_one_objective_per_element_and_an_area_per_standard():
    rows = parse_matrix(matrix_bytes(NESTED_MATRIX))
    assert [(r.code, r.changes["area"]) for r in rows] == [
        ("IC.1", "Intercultural competence"), ("IC.2", "Intercultural competence"),
        ("IC.2.1", "Intercultural competence"), ("PP.1", "Professional practice"), ("PP.2", "Professional practice"),
    ]
    first = rows[0].changes
    assert first["title"] == "Adapts communication to the host culture"
    assert first["description"] == "Notices how colleagues give feedback & adjusts."  # tags gone, plain text
    assert "target" not in first  # new objectives get the default, existing ones keep theirs
    assert rows[3].changes["description"] == "Keeps a weekly plan and meets deadlines."
    assert rows[4].changes["description"] == ""


def test_the_flat_shape_mahara_ships_is_read_too_and_long_shortnames_are_cut_to_32():
    rows = parse_matrix(matrix_bytes(FLAT_MATRIX))
    assert [(r.code, r.changes["area"]) for r in rows] == [
        ("Critical thinking", "Career readiness competencies"),
        ("Teamwork", "Career readiness competencies"),
        ("Information technology applicati", "Digital"),  # 32 characters; the area falls back to the shortname
    ]
    assert rows[0].changes["description"] == "Exercises sound reasoning. Source"


def test_old_mahara_files_with_standardelement_in_the_singular_are_read():
    document = {"framework": {"name": "F", "standards": [
        {"shortname": "S1", "name": "Know the students", "standardelement": [{"shortname": "1.1", "name": "One"}]},
        {"shortname": "S2", "name": "Unused standard"},
    ]}}
    assert [r.code for r in parse_matrix(matrix_bytes(document))] == ["1.1"]


def _with(change) -> bytes:
    document = json.loads(json.dumps(NESTED_MATRIX))
    change(document)
    return matrix_bytes(document)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"framework": {"name": "x", "standards": [', "The file is not valid JSON (line 1, column"),
        (b"", "The file is not valid JSON"),
        (b"[1, 2]", "it has no \u201cframework\u201d"),
        (b'{"standards": []}', "it has no \u201cframework\u201d"),
        (b'{"framework": {"name": "x"}}', "The framework has no \u201cstandards\u201d list."),
        (b'{"framework": {"standards": {"a": 1}}}', "The framework has no \u201cstandards\u201d list."),
        (b'{"framework": {"standards": [{"name": "S"}]}}', "The framework has no standard elements to import."),
        (b'{"framework": {"standards": ["S"]}}', "standard 1 is not an object"),
        (b'{"framework": {"standards": [{"shortname": "S", "standardid": 1}], "standardelements": {"a": 1}}}',
         "\u201cstandardelements\u201d is not a list"),
        (b'{"framework": {"standards": [{"shortname": "S", "standardid": 1}], '
         b'"standardelements": [{"shortname": "E", "standardid": 7}]}}',
         "element 1: it belongs to standard 7, which the file does not define"),
        (_with(lambda d: d["framework"]["standards"][0]["standardelements"][1].update(shortname="  ")),
         "standard 1, element 2: the shortname is empty"),
        (_with(lambda d: d["framework"]["standards"][1]["standardelements"][0].update(shortname="IC.1")),
         "standard 2, element 1: the shortname IC.1 appears again (first in standard 1, element 1)"),
        (_with(lambda d: d["framework"]["standards"][1]["standardelements"][0].update(name=12)),
         "standard 2, element 1: shortname, name and description must be text"),
        (_with(lambda d: d["framework"]["standards"][1].update(standardelements="PP.1")),
         "standard 2: its elements are not a list"),
        (_with(lambda d: d["framework"]["standards"][0].update(name="", shortname=None)),
         "standard 1 has neither a name nor a shortname"),
        (matrix_bytes({"framework": {"standards": [{"shortname": "S", "standardelements": [
            {"shortname": f"E{i}", "name": "e"} for i in range(501)]}]}}), "more than 500 elements"),
        ("{\"framework\": \"\u00e9\"}".encode("utf-16"), "The file is not UTF-8 text"),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_a_malformed_matrix_is_refused_with_a_clear_message(content, message):
    assert any(message in m for m in problems_of(parse_matrix, content)), problems_of(parse_matrix, content)
