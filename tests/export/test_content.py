"""The PDF read back: pdftotext for the words, pypdf for bookmarks, the attachment and
the PDF/A metadata. Two PDFs (everything, approved only) rendered once for the module."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pypdf
import pytest

from portfolio.db import db
from tests.export import builders
from tests.export.conftest import export_now


@pytest.fixture(scope="module")
def rendered(app):
    from portfolio.export.models import Export

    saved = app.config.get("JOBS_MODE")
    app.config["JOBS_MODE"] = "inline"
    try:
        with app.app_context():
            built = builders.standard_portfolio()
            db.session.commit()
        _job, everything = export_now(app, built.course_id, built.intern_id, "everything")
        _job, approved = export_now(app, built.course_id, built.intern_id, "approved")
        with app.app_context():
            exports = {e.scope.value: (e.verification_code, e.data_sha256, e.pdf_sha256)
                       for e in db.session.scalars(db.select(Export))}
    finally:
        app.config["JOBS_MODE"] = saved
    assert everything and approved
    return {"everything": everything, "approved": approved, "exports": exports,
            "text": builders.pdftotext(everything), "approved_text": builders.pdftotext(approved)}


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_cover_names_the_intern_placement_people_and_code(rendered):
    cover = flat(builders.pdftotext_page(rendered["everything"], 1))
    assert "INTERNSHIP PORTFOLIO" in cover
    for expected in ("Amara Okafor", "Internship 2027", "Example GmbH", "Germany",
                     "March 1, 2027", "Claire Dubois", "Helen Schmidt", "Every week written"):
        assert expected in cover, expected
    code, _data, _pdf = rendered["exports"]["everything"]
    assert code in cover
    assert f"/verify/{code}" in cover


def test_contents_and_bookmarks_list_every_section_and_week(rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered["everything"]))
    titles = [item["/Title"] for item in reader.outline]
    assert titles == ["Contents", "Placement summary", "Objectives coverage", "Week of March 1, 2027",
                      "Week of March 8, 2027", "Week of March 15, 2027", "Week of March 22, 2027", "Assessment"]
    contents = flat(builders.pdftotext_page(rendered["everything"], 2))
    assert "Placement summary" in contents and "Week of Mar 22, 2027" in contents
    # Each line of the contents ends with the page its section starts on.
    week_page = reader.get_destination_page_number(reader.outline[3]) + 1
    assert re.search(rf"Week of Mar 1, 2027[ .]*{week_page}\b", contents)


def test_summary_and_coverage_matrix(rendered):
    text = flat(rendered["text"])
    assert "Hours logged 23.5" in text  # 9.5 + 5 + 6 + 3: the newest revision of each week
    assert "Weeks approved 1" in text
    matrix = flat(text.split("Objectives coverage", 2)[2].split("Week of March 1", 1)[0])
    assert all(code in matrix for code in ("LO1", "LO2", "LO3"))
    assert "Objective number 2" in matrix


def test_every_week_with_reflection_tasks_hours_evidence_and_sign_off(rendered):
    text = flat(rendered["text"])
    assert "Approvedreflection alpha" in text
    assert "Prepared the workshop" in text and "Wrote the report" in text
    assert "LO1, LO2" in text
    assert "minutes.pdf · 1 KB" in text  # other files: listed by name and size
    assert "workshop-photo.jpg" in text
    assert "Approved by Claire Dubois" in text
    assert "c0ffee" + "0" * 58 in text  # the decision's content hash
    assert "Sent back by Claire Dubois" in text
    # The newest revision of each week: the draft correction, not the older approved one.
    assert "Newdraft revision charlie" in text and "Oldapproved revision bravo" not in text
    assert "Submittedreflection delta" in text and "Sentback reflection echo" in text


def test_images_are_inline_downscaled_and_without_exif(rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered["everything"]))
    week_page = reader.get_destination_page_number(reader.outline[3])
    assert len(reader.pages[week_page].images) == 1
    assert len({image.name for page in reader.pages for image in page.images}) == 1
    assert b"SecretCameraMaker" not in rendered["everything"]


def test_prepared_images_are_print_sized_and_stripped(app, tmp_path):
    from PIL import Image

    from portfolio.evidence import storage
    from portfolio.export import render

    with app.app_context():
        data = builders.photo(2400, 1800)
        images = render.prepare_images({hashlib.sha256(data).hexdigest(): storage.save(data)})
        (path,) = images.values()
    with Image.open(path) as image:
        assert max(image.size) == render.IMAGE_MAX_PX and image.size == (1000, 750)
        assert not image.getexif()
    assert b"SecretCameraMaker" not in open(path, "rb").read()


def test_released_grade_with_rubric_and_feedback(rendered):
    text = flat(rendered["text"])
    assert "Professional conduct" in text and "Excellent" in text
    assert "Always punctual and thorough" in text
    assert "Grade: 10 of 10" in text
    assert "A remarkable internship" in text


def test_page_numbers_and_running_header(rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered["everything"]))
    pages = len(reader.pages)
    assert pages >= 8
    for number in range(2, pages + 1):
        page = flat(builders.pdftotext_page(rendered["everything"], number))
        assert f"Page {number} / {pages}" in page
        assert "Amara Okafor" in page and "Internship portfolio" in page
    assert "Page 1 /" not in builders.pdftotext_page(rendered["everything"], 1)


def test_pdf_a_3b_tagged_with_the_data_attached(rendered):
    reader = pypdf.PdfReader(io.BytesIO(rendered["everything"]))
    assert list(reader.attachments) == ["portfolio.json"]
    data = reader.attachments["portfolio.json"][0]
    _code, data_sha256, pdf_sha256 = rendered["exports"]["everything"]
    assert hashlib.sha256(data).hexdigest() == data_sha256
    assert hashlib.sha256(rendered["everything"]).hexdigest() == pdf_sha256
    document = json.loads(data)
    assert document["intern"]["name"] == "Amara Okafor"
    assert [w["week"] for w in document["weeks"]] == ["2027-03-01", "2027-03-08", "2027-03-15", "2027-03-22"]
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/Lang"] == "en"


def test_approved_only_export(rendered):
    text = flat(rendered["approved_text"])
    assert "Approved weeks only" in text
    assert "Approvedreflection alpha" in text
    # Week 2 at its newest approved revision, under which a draft correction waits.
    assert "Oldapproved revision bravo" in text and "Newdraft revision charlie" not in text
    for absent in ("Submittedreflection delta", "Sentback reflection echo", "Week of March 15", "Week of March 22"):
        assert absent not in text
    reader = pypdf.PdfReader(io.BytesIO(rendered["approved"]))
    assert [item["/Title"] for item in reader.outline][3:] == ["Week of March 1, 2027", "Week of March 8, 2027",
                                                               "Assessment"]
    assert json.loads(reader.attachments["portfolio.json"][0])["scope"] == "approved"
