"""Uploading, downloading and removing evidence through the routes, as each kind of person."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import render_template
from PIL import Image

from portfolio.audit.models import AuditEvent
from portfolio.db import db
from portfolio.evidence import storage
from portfolio.evidence.models import Evidence
from portfolio.journal.models import Entry, EntryState
from portfolio.people.models import Membership, Role
from tests.evidence import (ELF, HTML_PAGE, SVG_WITH_SCRIPT, WINDOWS_EXE, csrf_token, docx, image, page_text, pdf,
                            stored_files, zipped)

MiB = 1024 * 1024


@pytest.fixture
def intern(client, login, make_member):
    member = make_member(Role.intern)
    login(client, member)
    return member


@pytest.fixture
def entry_id(intern, make_entry):
    return make_entry(intern)


@pytest.fixture
def upload(client, intern, entry_id):
    """POST a file as the signed-in intern (or as ``by``, another signed-in client)."""
    tokens = {}

    def post(data: bytes, name: str, *, by=client, course_id=intern.course_id, to=None, token=True, **form):
        if token and by not in tokens:
            tokens[by] = csrf_token(by, course_id)
        fields = {"file": (io.BytesIO(data), name), **form}
        if token:
            fields["csrf_token"] = tokens[by]
        return by.post(f"/c/{course_id}/entries/{to or entry_id}/evidence", data=fields,
                       content_type="multipart/form-data")

    return post


@pytest.fixture
def signed_in(make_client, login):
    return lambda member: login(make_client(), member)


def evidence_rows(app) -> list[Evidence]:
    with app.app_context():
        rows = db.session.scalars(sa.select(Evidence).order_by(Evidence.id)).all()
        db.session.expunge_all()
        return rows


def flashed(client, response) -> str:
    assert response.status_code == 302
    return page_text(client.get(response.headers["Location"], follow_redirects=True))


# --- Uploads ---


@pytest.mark.parametrize(("data", "name", "content_type"), [
    (image("PNG"), "photo.png", "image/png"),
    (image("JPEG", size=(1000, 400)), "photo.jpeg", "image/jpeg"),
    (pdf(), "report.pdf", "application/pdf"),
    (docx(), "report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("Notes from the week — café\n".encode(), "notes.txt", "text/plain"),
])
def test_accepted_uploads_are_stored_with_the_detected_type(app, client, upload, data, name, content_type):
    before = stored_files(app)
    response = upload(data, name)
    assert f"{name} is attached." in flashed(client, response)

    [row] = evidence_rows(app)
    assert (row.original_name, row.content_type, row.size) == (name, content_type, len(data))
    with app.app_context():
        assert storage.path_for(row.stored_name).read_bytes() == data
        if content_type.startswith("image/"):
            thumbnail = Image.open(storage.path_for(row.thumbnail_name))
            assert thumbnail.format == "PNG" and max(thumbnail.size) <= 320
        else:
            assert row.thumbnail_name is None
    assert len(stored_files(app) - before) == (2 if content_type.startswith("image/") else 1)


def test_an_upload_is_audited(app, upload, intern):
    upload(pdf(), "report.pdf")
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "evidence.added"))
        assert (event.actor_id, event.course_id, event.details["name"]) == (intern.user_id, intern.course_id,
                                                                             "report.pdf")


@pytest.mark.parametrize(("data", "name", "message"), [
    (ELF, "report.pdf", "This type of file (application/x-executable) is not accepted."),
    (WINDOWS_EXE, "report.pdf", "is not accepted."),
    (zipped(("notes.txt", "not an office")), "report.docx", "This type of file (application/zip) is not accepted."),
    (bytes(range(256)) * 16, "photo.png", "We could not recognise this file's type from its content."),
    (pdf(), "photo.png", "The file's content is not what its name says"),
    (SVG_WITH_SCRIPT, "drawing.svg", "SVG, HTML and XML files are not accepted"),
    (SVG_WITH_SCRIPT, "drawing.txt", "SVG, HTML and XML files are not accepted"),
    (HTML_PAGE, "page.txt", "SVG, HTML and XML files are not accepted"),
])
def test_wrong_content_is_refused_with_a_message_and_nothing_written(app, client, upload, data, name, message):
    before = stored_files(app)
    page = flashed(client, upload(data, name))
    assert message in page and 'class="flash flash-error"' in page
    assert evidence_rows(app) == []
    assert stored_files(app) == before


def test_a_file_over_the_configured_limit_is_refused_with_the_limit_in_words(app, client, upload):
    assert app.config["MAX_UPLOAD_BYTES"] == 10 * MiB
    before = stored_files(app)
    page = flashed(client, upload(b"a" * (10 * MiB + 1), "huge.txt"))
    assert "The file is larger than the limit of 10 MB." in page
    assert evidence_rows(app) == [] and stored_files(app) == before


def test_a_request_over_the_content_length_limit_gets_the_same_message_not_an_error(app, client, intern, entry_id):
    token = csrf_token(client, intern.course_id)
    response = client.post(
        f"/c/{intern.course_id}/entries/{entry_id}/evidence",
        data={"file": (io.BytesIO(b"a" * (app.config["MAX_CONTENT_LENGTH"] + 1)), "huge.pdf"), "csrf_token": token},
        content_type="multipart/form-data",
        headers={"Referer": f"http://{app.config['SERVER_NAME']}/c/{intern.course_id}/"},
    )
    # The journal's editor for the entry, where the message shows with the evidence panel.
    assert response.headers["Location"] == f"/c/{intern.course_id}/entries/{entry_id}/edit"
    page = flashed(client, response)
    assert "The file is larger than the limit of 10 MB." in page and 'name="file"' in page
    assert evidence_rows(app) == []


def test_a_name_with_a_path_is_kept_as_a_bare_name_and_never_used_on_disk(app, client, upload):
    before = stored_files(app)
    upload(b"root:x:0:0\n", "../../etc/passwd.txt")
    [row] = evidence_rows(app)
    assert row.original_name == "passwd.txt"
    [new_file] = stored_files(app) - before
    root = Path(app.config["STORAGE_DIR"]).resolve()
    assert new_file.resolve().is_relative_to(root / "evidence")
    assert re.fullmatch(r"[0-9a-f]{32}", new_file.name) and new_file.parent.name == new_file.name[:2]
    assert new_file.name == row.stored_name and new_file.read_bytes() == b"root:x:0:0\n"


def test_a_name_without_a_telling_extension_gets_the_real_one(app, upload):
    upload(pdf(), "scan")
    upload(image("PNG"), "setup.exe")
    assert [r.original_name for r in evidence_rows(app)] == ["scan.pdf", "setup.exe.png"]


def test_an_upload_without_a_csrf_token_is_refused(app, upload):
    assert upload(pdf(), "report.pdf", token=False).status_code == 400
    assert evidence_rows(app) == []


def test_an_empty_form_asks_for_a_file(app, client, upload):
    assert "Choose a file to attach." in flashed(client, upload(b"", ""))


def test_back_goes_only_to_a_page_of_the_same_course(client, intern, entry_id, upload):
    page = f"/c/{intern.course_id}/entries/{entry_id}"
    assert upload(pdf(), "a.pdf", next=page).headers["Location"] == page
    for elsewhere in ("https://evil.example/", "//evil.example/c/1/", "/c/999999/"):
        assert upload(pdf(), "a.pdf", next=elsewhere).headers["Location"] == f"{page}/edit"


@pytest.mark.parametrize("state", [EntryState.submitted, EntryState.approved])
def test_no_uploads_to_a_locked_entry(app, intern, make_entry, upload, state):
    locked = make_entry(intern, week_start=date(2027, 3, 8), state=state)
    assert upload(pdf(), "report.pdf", to=locked).status_code == 403
    assert evidence_rows(app) == []


def test_only_the_entrys_intern_uploads(app, intern, make_member, signed_in, upload):
    advisor = make_member(Role.advisor, course_id=intern.course_id)
    classmate = make_member(Role.intern, course_id=intern.course_id)
    foreign = make_member(Role.intern)
    assert upload(pdf(), "a.pdf", by=signed_in(advisor)).status_code == 403
    assert upload(pdf(), "a.pdf", by=signed_in(classmate)).status_code == 403
    foreign_client = signed_in(foreign)
    # The foreign intern's own course, with our entry's id: another course's entry is a 404.
    assert upload(pdf(), "a.pdf", by=foreign_client, course_id=foreign.course_id).status_code == 404
    assert evidence_rows(app) == []


# --- Downloads ---


def test_a_download_is_an_attachment_with_the_exact_bytes_and_locked_down_headers(app, client, intern, upload):
    data = SVG_WITH_SCRIPT.replace(b"<", b"&lt;")  # text that mentions markup is still text
    upload(data, "notes.txt")
    [row] = evidence_rows(app)
    response = client.get(f"/c/{intern.course_id}/evidence/{row.id}")
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == "attachment; filename=notes.txt"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_thumbnail_is_an_inline_png_and_only_images_have_one(app, client, intern, upload):
    upload(image("JPEG"), "photo.jpg")
    upload(pdf(), "report.pdf")
    photo, report = evidence_rows(app)
    response = client.get(f"/c/{intern.course_id}/evidence/{photo.id}/thumbnail")
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert response.headers["Content-Disposition"] == "inline; filename=thumbnail.png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(response.data)).size == (320, 240)
    assert client.get(f"/c/{intern.course_id}/evidence/{report.id}/thumbnail").status_code == 404


@pytest.mark.parametrize(("who", "status"), [
    ("intern", 200), ("advisor", 200), ("admin", 200), ("classmate", 403), ("supervisor", 403),
    ("foreign advisor", 404), ("anonymous", 401),
])
@pytest.mark.parametrize("suffix", ["", "/thumbnail"])
def test_who_may_download(app, client, make_client, intern, make_member, signed_in, upload, who, status, suffix):
    upload(image("PNG"), "photo.png")
    [row] = evidence_rows(app)
    people = {
        "intern": lambda: client,
        "advisor": lambda: signed_in(make_member(Role.advisor, course_id=intern.course_id)),
        "admin": lambda: signed_in(make_member(Role.admin, course_id=intern.course_id)),
        "classmate": lambda: signed_in(make_member(Role.intern, course_id=intern.course_id)),
        "supervisor": lambda: signed_in(make_member(Role.supervisor, course_id=intern.course_id)),
        "foreign advisor": lambda: signed_in(make_member(Role.advisor)),
        "anonymous": make_client,
    }
    assert people[who]().get(f"/c/{intern.course_id}/evidence/{row.id}{suffix}").status_code == status


def test_evidence_under_another_courses_url_is_404(app, intern, make_member, signed_in, upload):
    upload(pdf(), "report.pdf")
    [row] = evidence_rows(app)
    # An advisor of both courses still cannot reach it through the other course's URL.
    advisor = make_member(Role.advisor, course_id=intern.course_id)
    other = make_member(Role.intern)
    with app.app_context():
        db.session.add(Membership(user_id=advisor.user_id, course_id=other.course_id, role=Role.advisor))
        db.session.commit()
    browser = signed_in(advisor)
    assert browser.get(f"/c/{intern.course_id}/evidence/{row.id}").status_code == 200
    assert browser.get(f"/c/{other.course_id}/evidence/{row.id}").status_code == 404
    assert browser.get(f"/c/{other.course_id}/evidence/{row.id}/thumbnail").status_code == 404


# --- Removal ---


def remove(client, course_id: int, evidence_id: int):
    return client.post(f"/c/{course_id}/evidence/{evidence_id}/delete",
                       data={"csrf_token": csrf_token(client, course_id)})


def test_removing_deletes_the_row_and_its_files(app, client, intern, upload):
    before = stored_files(app)
    upload(image("PNG"), "photo.png")
    [row] = evidence_rows(app)
    assert "photo.png is removed." in flashed(client, remove(client, intern.course_id, row.id))
    assert evidence_rows(app) == []
    assert stored_files(app) == before
    with app.app_context():
        removed = sa.select(AuditEvent.subject_id).where(AuditEvent.action == "evidence.removed")
        assert db.session.scalar(removed) == row.id


def test_only_the_intern_removes_and_only_while_the_entry_is_editable(app, client, intern, entry_id, make_member,
                                                                      signed_in, upload):
    upload(pdf(), "report.pdf")
    [row] = evidence_rows(app)
    advisor = signed_in(make_member(Role.advisor, course_id=intern.course_id))
    assert remove(advisor, intern.course_id, row.id).status_code == 403
    with app.app_context():
        db.session.get(Entry, entry_id).state = EntryState.submitted
        db.session.commit()
    assert remove(client, intern.course_id, row.id).status_code == 403
    assert len(evidence_rows(app)) == 1
    assert client.post(f"/c/{intern.course_id}/evidence/{row.id}/delete").status_code == 400  # no CSRF token


def test_a_file_shared_by_two_revisions_stays_until_neither_names_it(app, client, intern, entry_id, make_entry, upload):
    upload(image("PNG"), "photo.png")
    [first] = evidence_rows(app)
    # What revising an approved week does: a new draft revision naming the same files.
    second_entry = make_entry(intern, revision=2)
    with app.app_context():
        db.session.get(Entry, entry_id).state = EntryState.approved
        copy = Evidence(entry_id=second_entry, original_name=first.original_name, stored_name=first.stored_name,
                        content_type=first.content_type, size=first.size, sha256=first.sha256,
                        thumbnail_name=first.thumbnail_name, uploaded_by_id=first.uploaded_by_id)
        db.session.add(copy)
        db.session.commit()
        copy_id = copy.id
        files = storage.path_for(first.stored_name), storage.path_for(first.thumbnail_name)

    assert remove(client, intern.course_id, copy_id).status_code == 302
    assert all(f.is_file() for f in files)
    assert client.get(f"/c/{intern.course_id}/evidence/{first.id}").data == image("PNG")

    with app.app_context():  # once the approved revision goes too, so do the files
        db.session.delete(db.session.get(Evidence, first.id))
        db.session.commit()
        assert [storage.delete_if_unreferenced(f.name) for f in files] == [True, True]
    assert not any(f.exists() for f in files)


def test_stored_names_are_never_paths(app):
    with app.app_context():
        for name in ("../../etc/passwd", "a" * 32 + "/..", "A" * 32, "", None):
            with pytest.raises(ValueError):
                storage.path_for(name)


# --- The panel the journal's entry page includes ---


def render_panel(app, member, entry_id: int) -> str:
    with app.test_request_context(f"/c/{member.course_id}/entries/{entry_id}"):
        membership = db.session.get(Membership, member.membership_id)
        entry = db.session.get(Entry, entry_id)
        return render_template("evidence/_panel.html", entry=entry, membership=membership, course=membership.course)


def test_the_panel_lists_evidence_and_offers_the_upload_form_to_the_intern_only(app, intern, entry_id, make_member,
                                                                                  upload):
    upload(image("PNG"), "photo.png")
    upload(pdf(), "report.pdf")
    photo, report = evidence_rows(app)
    mine = render_panel(app, intern, entry_id)
    assert f'src="/c/{intern.course_id}/evidence/{photo.id}/thumbnail"' in mine and 'alt="Preview of photo.png"' in mine
    assert f'href="/c/{intern.course_id}/evidence/{report.id}"' in mine and "report.pdf" in mine
    assert 'enctype="multipart/form-data"' in mine and 'name="csrf_token"' in mine
    assert f'data-max-bytes="{10 * MiB}"' in mine and "up to 10 MB" in mine
    assert mine.count("/delete") == 2

    advisor = make_member(Role.advisor, course_id=intern.course_id)
    theirs = render_panel(app, advisor, entry_id)
    assert "report.pdf" in theirs
    assert 'type="file"' not in theirs and "/delete" not in theirs
