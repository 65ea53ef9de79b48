"""Objective frameworks in and out of the tool: CSV both ways, and Mahara SmartEvidence
``.matrix`` files in.

Parsing never touches the database: a file is read whole and checked whole, and either
every row comes back or ``ImportProblem`` lists every line that is wrong, so that an
import never stops half-way. A CSV file has the header
``code,title,description,area,target,retired`` (only code and title are required). A
``.matrix`` file is JSON: ``framework`` → ``standards`` (each becomes an area) →
standard elements (each becomes an objective). Mahara has written the elements in two
shapes over the years, nested in their standard (``standardelements``, older files
``standardelement``) or in one list beside the standards, linked by ``standardid``; both
are read.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass, field

from flask_babel import gettext as _

from portfolio.text import plain_text

MAX_BYTES = 1024 * 1024
MAX_ROWS = 500
MAX_TARGET = 1000
CODE_LENGTH, TITLE_LENGTH, AREA_LENGTH, DESCRIPTION_LENGTH = 32, 255, 255, 5000
MATRIX_TARGET = 3  # a .matrix has no targets; new objectives get the usual one

CSV_COLUMNS = ("code", "title", "description", "area", "target", "retired")
REQUIRED_COLUMNS = ("code", "title")
YES, NO = {"yes", "y", "true", "1", "x"}, {"no", "n", "false", "0", ""}


class ImportProblem(Exception):
    """The file cannot be imported; ``messages`` says why, line by line."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class ImportRow:
    """One objective from a file: its code, and only the fields the file sets."""

    code: str
    changes: dict = field(default_factory=dict)  # title, description, area, target, retired


# --- CSV ---


def export_csv(objectives) -> str:
    """The framework as CSV, retired objectives included, in the order of the course."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for o in objectives:
        writer.writerow([o.code, o.title, o.description or "", o.area or "", o.target, "yes" if o.is_retired else "no"])
    return buffer.getvalue()


def parse_csv(data: bytes) -> list[ImportRow]:
    """Every row of a CSV file, or ImportProblem naming each bad line."""
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise ImportProblem([_("The file is empty.")])
        columns = _check_header(header)
        rows, problems, first_line = [], [], {}
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            line = reader.line_num
            if len(rows) >= MAX_ROWS:
                raise ImportProblem([_("The file has more than %(max)d objectives; split it into smaller files.",
                                       max=MAX_ROWS)])
            row = _csv_row(line, columns, cells, problems)
            if row is None:
                continue
            if row.code in first_line:
                problems.append(_("line %(line)d: the code %(code)s appears again (first on line %(first)d)",
                                  line=line, code=row.code, first=first_line[row.code]))
                continue
            first_line[row.code] = line
            rows.append(row)
    except csv.Error as error:
        raise ImportProblem([_("line %(line)d: this is not valid CSV (%(error)s)", line=reader.line_num,
                               error=str(error))]) from None
    if problems:
        raise ImportProblem(problems)
    if not rows:
        raise ImportProblem([_("The file has a header but no objectives.")])
    return rows


def _check_header(header: list[str]) -> list[str]:
    columns = [cell.strip().lower() for cell in header]
    problems = []
    unknown = [c for c in columns if c not in CSV_COLUMNS]
    if unknown:
        problems.append(_("line 1: unknown columns %(columns)s; the columns are %(known)s",
                          columns=", ".join(f"“{c}”" for c in unknown), known=", ".join(CSV_COLUMNS)))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        problems.append(_("line 1: the header lacks the columns %(columns)s", columns=", ".join(missing)))
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        problems.append(_("line 1: the columns %(columns)s appear twice", columns=", ".join(repeated)))
    if problems:
        raise ImportProblem(problems)
    return columns


def _csv_row(line: int, columns: list[str], cells: list[str], problems: list[str]) -> ImportRow | None:
    """One data row; a short row is padded (trailing optional cells are often left out)."""
    if len(cells) > len(columns):
        problems.append(_("line %(line)d: %(found)d cells but the header has %(expected)d columns",
                          line=line, found=len(cells), expected=len(columns)))
        return None
    values = dict(zip(columns, [c.strip() for c in cells] + [""] * (len(columns) - len(cells))))
    before = len(problems)
    code, title = values["code"], values["title"]
    if not code:
        problems.append(_("line %(line)d: the code is empty", line=line))
    elif len(code) > CODE_LENGTH:
        problems.append(_("line %(line)d: the code is longer than %(max)d characters", line=line, max=CODE_LENGTH))
    if not title:
        problems.append(_("line %(line)d: the title is empty", line=line))
    elif len(title) > TITLE_LENGTH:
        problems.append(_("line %(line)d: the title is longer than %(max)d characters", line=line, max=TITLE_LENGTH))
    changes: dict = {"title": title}
    if "description" in values:
        if len(values["description"]) > DESCRIPTION_LENGTH:
            problems.append(_("line %(line)d: the description is longer than %(max)d characters", line=line,
                              max=DESCRIPTION_LENGTH))
        changes["description"] = values["description"]
    if "area" in values:
        if len(values["area"]) > AREA_LENGTH:
            problems.append(_("line %(line)d: the area is longer than %(max)d characters", line=line, max=AREA_LENGTH))
        changes["area"] = values["area"] or None
    if values.get("target"):
        target = values["target"]
        if not (target.isdecimal() and len(target) <= 4 and 1 <= int(target) <= MAX_TARGET):
            problems.append(_("line %(line)d: the target must be a whole number from 1 to %(max)d, not “%(value)s”",
                              line=line, max=MAX_TARGET, value=target[:20]))
        else:
            changes["target"] = int(target)
    if "retired" in values:
        retired = values["retired"].lower()
        if retired not in YES | NO:
            problems.append(_("line %(line)d: retired must be yes or no, not “%(value)s”", line=line,
                              value=values["retired"][:20]))
        changes["retired"] = retired in YES
    return ImportRow(code, changes) if len(problems) == before else None


# --- Mahara SmartEvidence ---


def parse_matrix(data: bytes) -> list[ImportRow]:
    """Every standard element of a SmartEvidence framework, or ImportProblem saying what is wrong."""
    try:
        document = json.loads(_decode(data))
    except json.JSONDecodeError as error:
        raise ImportProblem([_("The file is not valid JSON (line %(line)d, column %(column)d: %(error)s).",
                               line=error.lineno, column=error.colno, error=error.msg)]) from None
    except RecursionError:
        raise ImportProblem([_("The file is nested too deeply to be a SmartEvidence matrix.")]) from None
    framework = document.get("framework") if isinstance(document, dict) else None
    if not isinstance(framework, dict):
        raise ImportProblem([_("This is not a SmartEvidence matrix: it has no “framework”.")])
    standards = framework.get("standards")
    if not isinstance(standards, list) or not standards:
        raise ImportProblem([_("The framework has no “standards” list.")])
    flat = framework.get("standardelements", [])
    if not isinstance(flat, list):
        raise ImportProblem([_("The framework’s “standardelements” is not a list.")])

    problems: list[str] = []
    areas: dict = {}  # standardid → area name
    elements: list[tuple[str, str, dict]] = []  # (where, area, element)
    for s, standard in enumerate(standards, start=1):
        if not isinstance(standard, dict):
            problems.append(_("standard %(s)d is not an object", s=s))
            continue
        area = _text(standard.get("name")) or _text(standard.get("shortname"))
        if not area:
            problems.append(_("standard %(s)d has neither a name nor a shortname", s=s))
        area = area[:AREA_LENGTH]
        if standard.get("standardid") is not None:
            areas[str(standard["standardid"])] = area
        nested = standard.get("standardelements", standard.get("standardelement", []))
        if not isinstance(nested, list):
            problems.append(_("standard %(s)d: its elements are not a list", s=s))
            continue
        elements += [(_("standard %(s)d, element %(e)d", s=s, e=e), area, el) for e, el in enumerate(nested, start=1)]
    for e, element in enumerate(flat, start=1):
        where = _("element %(e)d", e=e)
        standard_id = element.get("standardid") if isinstance(element, dict) else None
        if isinstance(element, dict) and str(standard_id) not in areas:
            problems.append(_("%(where)s: it belongs to standard %(id)s, which the file does not define",
                              where=where, id=standard_id))
            continue
        elements.append((where, areas.get(str(standard_id), ""), element))

    if len(elements) > MAX_ROWS:
        raise ImportProblem([_("The framework has more than %(max)d elements; split it into smaller files.",
                               max=MAX_ROWS)])
    rows, first = [], {}
    for where, area, element in elements:
        row = _matrix_row(where, area, element, problems)
        if row is None:
            continue
        if row.code in first:
            problems.append(_("%(where)s: the shortname %(code)s appears again (first in %(first)s)",
                              where=where, code=row.code, first=first[row.code]))
            continue
        first[row.code] = where
        rows.append(row)
    if problems:
        raise ImportProblem(problems)
    if not rows:
        raise ImportProblem([_("The framework has no standard elements to import.")])
    return rows


def _matrix_row(where: str, area: str, element, problems: list[str]) -> ImportRow | None:
    if not isinstance(element, dict):
        problems.append(_("%(where)s is not an object", where=where))
        return None
    if not all(isinstance(element.get(k), (str, type(None))) for k in ("shortname", "name", "description")):
        problems.append(_("%(where)s: shortname, name and description must be text", where=where))
        return None
    code = _text(element.get("shortname"))[:CODE_LENGTH].strip()
    if not code:
        problems.append(_("%(where)s: the shortname is empty", where=where))
        return None
    title = (_text(element.get("name")) or code)[:TITLE_LENGTH]
    description = _text(element.get("description"))[:DESCRIPTION_LENGTH]
    return ImportRow(code, {"title": title, "description": description, "area": area or None})


def _text(value) -> str:
    """Mahara stores HTML in names and descriptions; we keep plain text."""
    if not isinstance(value, str):
        return ""
    return html.unescape(plain_text(value)).strip()


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportProblem([_("The file is larger than 1 MB; split it into smaller files.")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportProblem([_("The file is not UTF-8 text (byte %(at)d); save it as “CSV UTF-8” and try again.",
                               at=error.start + 1)]) from None


PARSERS = {"csv": parse_csv, "matrix": parse_matrix}
