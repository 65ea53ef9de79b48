"""Sample files built in memory, and helpers shared by the evidence tests."""

from __future__ import annotations

import html
import io
import re
import zipfile
from pathlib import Path

from PIL import Image

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def image(fmt: str = "PNG", size: tuple[int, int] = (640, 480), exif: Image.Exif | None = None) -> bytes:
    out = io.BytesIO()
    picture = Image.new("RGB", size, (200, 40, 40))
    picture.save(out, fmt, **({"exif": exif} if exif is not None else {}))
    return out.getvalue()


def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
            b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")


def zipped(*members: tuple[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members:
            archive.writestr(name, text)
    return out.getvalue()


def docx() -> bytes:
    """The smallest Word document that Word itself would recognise the structure of."""
    return zipped(
        ("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                'package/2006/content-types"/>'),
        ("_rels/.rels", '<?xml version="1.0"?><Relationships/>'),
        ("word/document.xml", '<?xml version="1.0"?><w:document/>'),
    )


def odt() -> bytes:
    # "mimetype" comes first and uncompressed in a real OpenDocument file.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr("content.xml", "<office:document-content/>", zipfile.ZIP_DEFLATED)
    return out.getvalue()


SVG_WITH_SCRIPT = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
HTML_PAGE = b"\xef\xbb\xbf  <!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
ELF = b"\x7fELF\x02\x01\x01" + bytes(200)
WINDOWS_EXE = b"MZ\x90\x00" + bytes(200)


def csrf_token(client, course_id: int) -> str:
    """A token for this client's session, from a page that renders one."""
    return TOKEN.search(client.get(f"/c/{course_id}/preferences").get_data(as_text=True)).group(1)


def stored_files(app) -> set[Path]:
    root = Path(app.config["STORAGE_DIR"]) / "evidence"
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))
