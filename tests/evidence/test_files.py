"""Judging a file by its bytes: names, types, thumbnails."""

from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image

from portfolio.evidence.operations import DOCX, ODT, RejectedUpload, clean_filename, detect, make_thumbnail
from tests.evidence import ELF, HTML_PAGE, SVG_WITH_SCRIPT, WINDOWS_EXE, docx, image, odt, pdf, zipped


@pytest.fixture(autouse=True)
def request_context(app):
    with app.test_request_context():
        yield


@pytest.mark.parametrize(("given", "kept"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("C:\\Users\\ana\\Week 3.pdf", "Week 3.pdf"),
    ("report\x00\x1b[31m.pdf", "report[31m.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.exe"),  # the right-to-left override goes
    ('a<b>c:"d"|e?*.txt', "abcde.txt"),
    ("..", "evidence"),
    ("", "evidence"),
    (None, "evidence"),
    ("  .hidden.txt. ", "hidden.txt"),
])
def test_names_are_bare_names(given, kept):
    assert clean_filename(given) == kept


def test_long_names_are_cut_but_keep_their_extension():
    name = clean_filename("x" * 400 + ".docx")
    assert len(name) == 255 and name.endswith("xxx.docx")


@pytest.mark.parametrize(("data", "name", "content_type", "extension"), [
    (image("PNG"), "photo.png", "image/png", "png"),
    (image("JPEG"), "photo.png", "image/jpeg", "jpg"),  # a picture misnamed is still a picture
    (image("GIF"), "anim.gif", "image/gif", "gif"),
    (image("WEBP"), "shot.webp", "image/webp", "webp"),
    (pdf(), "report.pdf", "application/pdf", "pdf"),
    (docx(), "report.docx", DOCX, "docx"),
    (zipped(("word/document.xml", "<w/>"), ("[Content_Types].xml", "<T/>")), "r.docx", DOCX, "docx"),
    (odt(), "report.odt", ODT, "odt"),
    (pdf(), "report", "application/pdf", "pdf"),  # no extension: the content decides
    ("Café notes\n".encode(), "notes.txt", "text/plain", "txt"),
    (b"# Week 3\n\n<b>bold</b> is fine\n", "notes.md", "text/markdown", "md"),
    (b"\xef\xbb\xbfdate,hours\n2027-03-01,8\n", "hours.csv", "text/csv", "csv"),
])
def test_accepted_by_content(data, name, content_type, extension):
    assert detect(data, name) == (content_type, extension)


@pytest.mark.parametrize(("data", "name", "message"), [
    (ELF, "report.pdf", "not accepted"),
    (WINDOWS_EXE, "report.pdf", "not accepted"),
    (zipped(("a.txt", "x")), "report.docx", "not accepted"),
    (zipped(("[Content_Types].xml", "<T/>"), ("other/x.xml", "<x/>")), "report.docx", "not accepted"),
    (random.Random(1).randbytes(4096), "photo.png", "could not recognise"),
    (pdf(), "photo.png", "not what its name says"),
    (image("PNG"), "notes.txt", "not what its name says"),
    (SVG_WITH_SCRIPT, "drawing.svg", "SVG, HTML and XML files are not accepted"),
    (SVG_WITH_SCRIPT, "drawing.txt", "SVG, HTML and XML files are not accepted"),
    (HTML_PAGE, "page.txt", "SVG, HTML and XML files are not accepted"),
    (image("PNG"), "page.html", "SVG, HTML and XML files are not accepted"),
    (b"plain words\n", "notes", "could not recognise"),  # text needs a text name
    (b"plain\x00words\n", "notes.txt", "could not recognise"),
    ("Grüße".encode("latin-1"), "notes.txt", "could not recognise"),
])
def test_refused_by_content(data, name, message):
    with pytest.raises(RejectedUpload, match=message):
        detect(data, name)


def test_thumbnails_are_small_pngs_without_exif():
    exif = Image.Exif()
    exif[0x013B] = "Ana Intern"  # Artist
    exif[0x0112] = 6  # Orientation: rotated, so the thumbnail is turned upright
    thumbnail = Image.open(io.BytesIO(make_thumbnail(image("JPEG", size=(1600, 1200), exif=exif))))
    assert thumbnail.format == "PNG"
    assert thumbnail.size == (240, 320)
    assert not thumbnail.getexif() and "exif" not in thumbnail.info


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge picture: a decompression bomb's shape."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + chunk(b"IEND", b""))


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bombs_are_refused():
    with pytest.raises(RejectedUpload, match="too large to process"):
        make_thumbnail(png_claiming(30_000, 30_000))
    with pytest.raises(RejectedUpload, match="too large to process"):
        make_thumbnail(png_claiming(10_000, 9_000))  # over the limit, under Pillow's own error


def test_damaged_images_are_refused():
    with pytest.raises(RejectedUpload, match="could not be read"):
        make_thumbnail(image("PNG")[:200])
