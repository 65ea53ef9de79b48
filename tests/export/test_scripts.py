"""Names, reflections and company names in many scripts come out as real glyphs: the
characters are in the PDF's text layer, and the fonts embedded are the Noto fonts that
cover them (a missing font would show boxes and embed no such font)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

from portfolio.db import db
from portfolio.journal.models import EntryState
from tests.export import builders
from tests.export.conftest import export_now

WORDS = {
    "Latin": "Zoë Łukasiewicz",
    "Cyrillic": "Анна Иванова",
    "Greek": "Ελένη Παπαδοπούλου",
    "Arabic": "مريم الحسن",
    "Hebrew": "דנה כהן",
    "Chinese": "王小明",
    "Japanese": "さくら山田",
    "Korean": "김민준",
    "Devanagari": "प्रिया भारत",
    "Thai": "สมชาย",
}
FONTS = {"Arabic": "NotoSansArabic", "Hebrew": "NotoSansHebrew", "Devanagari": "NotoSansDevanagari",
         "Thai": "NotoSansThai", "Chinese": "NotoSansCJK", "Greek": "NotoSans", "Cyrillic": "NotoSans"}


def test_every_script_renders_with_real_glyphs(app, build):
    def portfolio():
        course, intern, supervisor, _advisor = builders.course_with_people(
            intern_name=WORDS["Cyrillic"], host=f"{WORDS['Chinese']} 有限公司 / {WORDS['Arabic']}",
            supervisor_name=WORDS["Hebrew"], advisor_name=WORDS["Greek"], course_title=f"Praktikum {WORDS['Korean']}",
            locale="ar")
        los = builders.objectives(course)
        reflection = "\n\n".join(f"{script}: {text}" for script, text in WORDS.items()) + "\n\nशर्मा"
        builders.week_entry(course, intern, builders.date(2027, 3, 1), state=EntryState.approved, reflection=reflection,
                            tasks=[(f"{WORDS['Devanagari']} / {WORDS['Thai']} / {WORDS['Japanese']}", "3", [los[0]])],
                            decided_by=supervisor)
        db.session.commit()
        return course.id, intern.id

    course_id, intern_id = build(portfolio)
    _job, pdf = export_now(app, course_id, intern_id)
    assert pdf is not None
    text = re.sub(r"\s+", " ", builders.pdftotext(pdf))
    packed = re.sub(r"\s+", "", text)  # pdftotext may put a space between two glyph clusters
    for script, word in WORDS.items():
        for part in word.split():
            assert part in packed, f"{script}: {part!r} missing from the text layer"
    # A reph is drawn after the letters it precedes: its characters are all there, in drawing order.
    assert set("शर्मा") <= set(packed)
    # An Arabic-speaking intern: the document is in Arabic, right to left.
    import io

    import pypdf

    assert pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]["/Lang"] == "ar"
    assert "مارس" in text and "March" not in text  # dates name their months in the intern's language
    # Right-to-left words come out whole, in reading order.
    assert "مريم" in text and "الحسن" in text and "דנה" in text and "כהן" in text

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "doc.pdf"
        path.write_bytes(pdf)
        fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    fonts = re.sub(r"[- ]", "", fonts)
    for script, font in FONTS.items():
        assert font in fonts, f"{script}: no {font} embedded in {fonts!r}"
