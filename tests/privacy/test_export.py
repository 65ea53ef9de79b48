"""Export of one person: every table with a user column is covered, every row about the
person is in the zip, with their files and the intern's portfolio PDF."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
import sqlalchemy as sa

from portfolio.db import db
from portfolio.people.models import Role
from tests.journal.helpers import csrf_token


def user_columns(table: sa.Table) -> list[sa.Column]:
    return [c for c in table.columns for fk in c.foreign_keys if fk.column.table.name == "user"]


def uncovered(metadata: sa.MetaData) -> list[str]:
    from portfolio.privacy.operations import COVERAGE, EXCLUDED

    return sorted(t.name for t in metadata.sorted_tables
                  if user_columns(t) and t.name not in COVERAGE and t.name not in EXCLUDED)


def test_every_table_with_a_user_column_is_exported_or_excluded_with_a_reason(app):
    from portfolio.db import Base
    from portfolio.privacy.operations import COVERAGE, EXCLUDED

    assert uncovered(db.metadata) == []
    mapped = {m.class_.__table__.name for m in Base.registry.mappers if hasattr(m.class_, "__table__")}
    assert {t.name for t in db.metadata.sorted_tables if user_columns(t)} - {"lti_launch_ticket"} <= mapped
    assert all(reason.strip() for reason in EXCLUDED.values())
    assert set(COVERAGE) <= {t.name for t in db.metadata.sorted_tables}  # no stale names either


def test_a_new_model_with_a_user_column_makes_the_check_fail(app):
    metadata = sa.MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(metadata)
    sa.Table("intern_diary", metadata, sa.Column("id", sa.Integer, primary_key=True),
             sa.Column("author_id", sa.ForeignKey("user.id")))
    assert uncovered(metadata) == ["intern_diary"]


def _zip(data: bytes) -> tuple[dict, zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return json.loads(archive.read("person.json")), archive


@pytest.mark.parametrize("who", ["intern", "supervisor"])
def test_every_row_referencing_the_person_is_in_the_export(app, world, who):
    from portfolio.people.models import User
    from portfolio.privacy.operations import COVERAGE, EXPORT_SCHEMA, build_person_zip

    user_id = world.intern.user_id if who == "intern" else world.supervisor_id
    with app.app_context():
        document, archive = _zip(build_person_zip(db.session.get(User, user_id), with_pdf=False))
        assert document["schema"] == EXPORT_SCHEMA and document["person"]["id"] == user_id
        checked = 0
        for table_name, (section, _exporter) in COVERAGE.items():
            table = db.metadata.tables[table_name]
            columns = user_columns(table)
            expected = set(db.session.scalars(sa.select(table.c.id).where(sa.or_(*[c == user_id for c in columns]))))
            exported = {row["id"] for row in document[section]}
            assert expected <= exported, f"{table_name}: rows {expected - exported} missing from '{section}'"
            checked += len(expected)
        assert checked >= (12 if who == "intern" else 6)

    if who == "intern":
        tokens = world.intern_tokens
        text = json.dumps(document)
        assert all(t in text for t in tokens)
        entries = [e for e in document["entries"] if "tasks" in e]
        assert len(entries) == 2 and entries[0]["decisions"] and entries[0]["tasks"][0]["objectives"] == ["COM"]
        files = [e["file"] for e in document["evidence"]]
        assert files and files[0].startswith("files/evidence/")
        assert archive.read(files[0]).decode().startswith("Notes by " + tokens[2])
        assert document["grades"][0]["marks"][0]["feedback"].startswith(tokens[2])
        assert "token_hash" not in json.dumps(document["launch_tickets"])
    else:
        decided = {d["entry_id"] for d in document["decisions"]}
        assert world.submitted_entry_id in decided and len(decided) == 2
        # Of the interns' weeks the supervisor decided, only the decision is theirs to see.
        foreign = [e for e in document["entries"] if e["id"] == world.submitted_entry_id]
        assert foreign and "reflection" not in foreign[0]


def test_the_intern_export_carries_the_portfolio_pdf(app, world):
    from portfolio.people.models import User
    from portfolio.privacy.operations import export_person

    with app.app_context():
        data = export_person(db.session.get(User, world.intern.user_id), via="cli")
        db.session.commit()
    document, archive = _zip(data)
    listed = document["portfolio_pdfs"]
    assert len(listed) == 1 and listed[0]["file"] == f"files/portfolio-course-{world.course_id}.pdf"
    assert archive.read(listed[0]["file"]).startswith(b"%PDF")
    with app.app_context():
        from portfolio.audit.models import AuditEvent

        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "person.exported"))
        assert event.about_id == world.intern.user_id and event.via == "cli"


def test_a_person_downloads_their_own_data(app, world, make_client, login):
    client = login(make_client(), world.intern)
    page = client.get(f"/c/{world.course_id}/privacy")
    assert page.status_code == 200
    response = client.post("/privacy/export", data={"csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    document, _archive = _zip(response.data)
    assert document["person"]["id"] == world.intern.user_id


def test_export_without_csrf_is_refused(app, world, make_client, login):
    client = login(make_client(), world.intern)
    assert client.post("/privacy/export").status_code == 400


def test_the_cli_writes_the_zip(app, world, runner, tmp_path):
    out = tmp_path / "person.zip"
    result = runner.invoke(args=["privacy", "export-person", str(world.supervisor_id), "--out", str(out), "--no-pdf"])
    assert result.exit_code == 0, result.output
    document, _archive = _zip(out.read_bytes())
    assert document["person"]["email"] == world.supervisor_tokens[1]


@pytest.mark.parametrize("who,status", [("admin", 200), ("foreign_admin", 404), ("advisor", 403),
                                        ("intern", 403), ("anonymous", 401)])
def test_who_may_export_someone_else(app, world, make_client, make_member, login, who, status):
    people = {"admin": world.admin, "advisor": world.advisor, "intern": world.other_intern,
              "foreign_admin": make_member(Role.admin), "anonymous": None}
    member = people[who]
    client = make_client()
    course_id = member.course_id if member else world.course_id
    if member:
        login(client, member)
    token = csrf_token(client.get(f"/c/{course_id}/privacy").get_data(as_text=True)) if member else "x"
    response = client.post(f"/c/{course_id}/admin/people/{world.intern.user_id}/export",
                           data={"csrf_token": token})
    if who == "anonymous":  # no session, no CSRF token either: refused before anything else
        assert response.status_code in (400, 401)
        return
    assert response.status_code == status
    if status == 200:
        assert _zip(response.data)[0]["person"]["id"] == world.intern.user_id


def test_an_admin_exports_only_their_platforms_courses(app, world, make_member, make_client, login):
    """An invited supervisor has one row for every platform: another platform's admin sees none of ours."""
    from portfolio.people.models import Membership

    foreign_admin = make_member(Role.admin)
    with app.app_context():
        db.session.add(Membership(user_id=world.supervisor_id, course_id=foreign_admin.course_id,
                                  role=Role.supervisor))
        db.session.commit()
    client = login(make_client(), foreign_admin)
    token = csrf_token(client.get(f"/c/{foreign_admin.course_id}/privacy").get_data(as_text=True))
    response = client.post(f"/c/{foreign_admin.course_id}/admin/people/{world.supervisor_id}/export",
                           data={"csrf_token": token})
    assert response.status_code == 200
    document, _archive = _zip(response.data)
    assert document["courses"] == [foreign_admin.course_id]
    assert [m["course_id"] for m in document["memberships"]] == [foreign_admin.course_id]
    assert document["decisions"] == [] and document["supervisions"] == []
