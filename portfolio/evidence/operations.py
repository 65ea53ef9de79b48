"""Adding and removing evidence: check the rule, check the file by its content, store,
flush, audit. Never commit.

A file is accepted for what its bytes are, not for what its name says: images (JPEG,
PNG, GIF, WebP), PDF, office documents, and plain text that is really plain text. SVG
and HTML are refused outright: a browser would run the scripts they may carry.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from pathlib import PurePosixPath

import filetype
from flask import current_app
from flask_babel import gettext as _
from PIL import Image, ImageOps

from portfolio.audit.operations import record_event
from portfolio.db import db
from portfolio.errors import ensure
from portfolio.evidence import storage
from portfolio.evidence.models import Evidence
from portfolio.journal.models import Entry
from portfolio.people.models import Membership

THUMBNAIL_SIZE = (320, 320)
MAX_NAME_LENGTH = 255

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"

# Detected content type → the extension we give it.
ACCEPTED = {
    "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp",
    "application/pdf": "pdf",
    "application/msword": "doc", DOCX: "docx", ODT: "odt",
    "application/vnd.ms-excel": "xls", XLSX: "xlsx", ODS: "ods",
    "application/vnd.ms-powerpoint": "ppt", PPTX: "pptx", ODP: "odp",
}
TEXT_TYPES = {"txt": "text/plain", "md": "text/markdown", "csv": "text/csv"}
# Extensions that may stand for one another: a JPEG named .png is still a picture.
FAMILIES = [
    {"jpg", "jpeg", "png", "gif", "webp"}, {"pdf"}, {"doc", "docx", "odt"}, {"xls", "xlsx", "ods"},
    {"ppt", "pptx", "odp"}, set(TEXT_TYPES),
]
MARKUP_EXTENSIONS = {"svg", "svgz", "html", "htm", "xhtml", "xht", "shtml", "xml", "xsl", "xslt", "mht", "mhtml"}
MARKUP_SIGNS = (b"<svg", b"<html", b"<script", b"<!doctype", b"<?xml")
RESERVED = re.compile(r'[<>:"/\\|?*]')


class RejectedUpload(ValueError):
    """The file cannot be evidence; the message says why, in words for the person."""


def accepted_types_text() -> str:
    return _("Accepted are images (JPEG, PNG, GIF, WebP), PDF, office documents (Word, Excel, PowerPoint, "
             "OpenDocument) and plain text (.txt, .md, .csv).")


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def clean_filename(name: str | None) -> str:
    """The name to show and to offer on download: a bare name, never a path."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    # Control and format characters (a right-to-left override can make "exe.txt" read "txt.exe").
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf"))
    name = RESERVED.sub("", name).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        suffix = _extension(name)
        keep = MAX_NAME_LENGTH - len(suffix) - 1 if suffix else MAX_NAME_LENGTH
        name = name[:keep].rstrip(" .") + (f".{suffix}" if suffix else "")
    return name or "evidence"


def _extension(name: str) -> str:
    suffix = PurePosixPath(name).suffix[1:].lower()
    return suffix if re.fullmatch(r"[a-z0-9]{1,8}", suffix) else ""


def _family(extension: str) -> set[str] | None:
    return next((family for family in FAMILIES if extension in family), None)


def _looks_like_markup(data: bytes) -> bool:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n\f\v")
    return head[:1] == b"<" and any(sign in head.lower() for sign in MARKUP_SIGNS)


def _is_plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _office_type(data: bytes) -> str | None:
    """The office format inside a ZIP archive, judged by its members; None for any other ZIP."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 100:
                mime = archive.read("mimetype").decode("ascii", "replace").strip()
                return mime if mime in (ODT, ODS, ODP) else None
            if "[Content_Types].xml" in names:
                for prefix, mime in (("word/", DOCX), ("xl/", XLSX), ("ppt/", PPTX)):
                    if any(n.startswith(prefix) for n in names):
                        return mime
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, NotImplementedError, RuntimeError, EOFError, OSError):
        pass
    return None


def detect(data: bytes, filename: str) -> tuple[str, str]:
    """(content type, extension) of an acceptable file, judged by its bytes; else RejectedUpload."""
    claimed = _extension(filename)
    if claimed in MARKUP_EXTENSIONS or _looks_like_markup(data):
        raise RejectedUpload(_("SVG, HTML and XML files are not accepted: they can carry scripts. "
                               "Save the drawing or page as PNG or PDF and upload that instead."))
    if data.startswith(b"PK\x03\x04"):
        detected = _office_type(data) or "application/zip"
    else:
        kind = filetype.guess(data)
        detected = kind.mime if kind else None
        if detected == "image/apng":  # an animated PNG is a PNG
            detected = "image/png"

    if detected is None:
        if claimed in TEXT_TYPES and _is_plain_text(data):
            return TEXT_TYPES[claimed], claimed
        raise RejectedUpload(_("We could not recognise this file's type from its content.") + " "
                             + accepted_types_text())
    if detected not in ACCEPTED:
        raise RejectedUpload(_("This type of file (%(type)s) is not accepted.", type=detected) + " "
                             + accepted_types_text())

    extension = ACCEPTED[detected]
    family = _family(claimed)
    if family is not None and extension not in family:
        raise RejectedUpload(_("The file's content is not what its name says (the name ends in .%(claimed)s, "
                               "the content is a .%(actual)s file).", claimed=claimed, actual=extension))
    return detected, extension


def make_thumbnail(data: bytes) -> bytes:
    """A PNG of at most 320×320, re-encoded so that no EXIF (places, devices) survives."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > Image.MAX_IMAGE_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG decodes straight at a smaller scale
            thumbnail = ImageOps.exif_transpose(image)
            thumbnail.thumbnail(THUMBNAIL_SIZE)
            if thumbnail.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                thumbnail = thumbnail.convert("RGBA")
            out = io.BytesIO()
            thumbnail.save(out, "PNG")
            return out.getvalue()
    except Image.DecompressionBombError:
        raise RejectedUpload(_("The image is too large to process.")) from None
    except Exception:  # a damaged image fails in many ways inside the decoders
        raise RejectedUpload(_("The image could not be read; the file may be damaged.")) from None


def add_evidence(entry: Entry, data: bytes, filename: str | None, *, by: Membership) -> Evidence:
    """Only the intern adds evidence, and only while the entry can be edited."""
    ensure(entry.can_edit(by))
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    if len(data) > limit:
        raise RejectedUpload(_("The file is larger than the limit of %(size)s MB.", size=megabytes(limit)))
    if not data:
        raise RejectedUpload(_("The file is empty."))
    name = clean_filename(filename)
    content_type, extension = detect(data, name)
    if _family(_extension(name)) is None:  # no extension, or one that says nothing: add the real one
        name = clean_filename(f"{name}.{extension}")
    thumbnail = make_thumbnail(data) if content_type.startswith("image/") else None

    # Every check has passed: only now does anything reach the disk.
    evidence = Evidence(
        entry=entry, original_name=name, stored_name=storage.save(data), content_type=content_type,
        size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        thumbnail_name=storage.save(thumbnail) if thumbnail else None, uploaded_by_id=by.user_id,
    )
    db.session.add(evidence)
    db.session.flush()
    record_event("evidence.added", by=by, subject=evidence, via="web",
                 entry=entry.id, name=name, content_type=content_type, size=evidence.size, sha256=evidence.sha256)
    return evidence


def remove_evidence(evidence: Evidence, *, by: Membership) -> list[str]:
    """Only the intern removes evidence, and only while the entry can be edited.

    Returns the stored names to release once the change is committed (the caller does it,
    so that a rolled-back request never loses a file that a row still names).
    """
    ensure(evidence.entry.can_edit(by))
    record_event("evidence.removed", by=by, subject=evidence, via="web",
                 entry=evidence.entry_id, name=evidence.original_name, sha256=evidence.sha256)
    names = [n for n in (evidence.stored_name, evidence.thumbnail_name) if n]
    db.session.delete(evidence)
    db.session.flush()
    return names
