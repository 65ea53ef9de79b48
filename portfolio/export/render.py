"""From the database to a PDF, in three steps.

1. ``build_document``: everything the PDF shows, as plain JSON-able data. The same data
   is embedded in the PDF as ``portfolio.json`` and, hashed together with the templates'
   version and the locale, is the cache key: any change to what the PDF shows changes it.
2. ``build_html``: the print templates of ``templates/export/`` in the intern's language,
   with user HTML sanitised again and evidence images downscaled to print resolution.
3. ``render_pdf``: WeasyPrint in a separate process, with a time limit, an address-space
   limit and a URL fetcher that loads only ``data:`` URIs and our own prepared files.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import current_app, render_template
from flask_babel import force_locale, gettext as _
from markupsafe import Markup

from portfolio.db import db
from portfolio.export import queries
from portfolio.extensions import normalise_locale
from portfolio.export.models import Scope
from portfolio.journal.models import EntryState
from portfolio.people.models import Course, User
from portfolio.placements.models import Placement
from portfolio.signoff.models import DecisionKind
from portfolio.text import sanitise_html

# Bump when the rendering changes in a way the template files do not show.
RENDER_VERSION = "1"
PDF_VARIANT = "pdf/a-3b"
ATTACHMENT_NAME = "portfolio.json"
# Images are printed at most 17 cm wide; 1000 px is about 150 dpi there.
IMAGE_MAX_PX = 1000
IMAGE_QUALITY = 82
IMAGE_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"}
RTL_LANGUAGES = {"ar", "he", "fa", "ur", "yi", "ps"}
TEMPLATES = ("portfolio.html", "print.css")


class RenderFailed(Exception):
    """The PDF could not be made; the message says why, in words for people."""


# --- 1. the document ---------------------------------------------------------------------


def _money(value) -> str:
    return f"{Decimal(value):.2f}"


def build_document(course: Course, intern: User, scope: Scope) -> tuple[dict, dict[str, str]]:
    """What the PDF shows, and the stored files of its images (sha256 → stored name)."""
    placement = db.session.scalar(
        db.select(Placement).where(Placement.course_id == course.id, Placement.intern_id == intern.id))
    revisions = list(db.session.scalars(queries.entries_of(course.id, intern.id)))
    chosen = {}
    for entry in revisions:  # newest revision first within each week
        if scope is Scope.approved:
            if entry.state is EntryState.approved and entry.week_start not in chosen:
                chosen[entry.week_start] = entry
        else:
            chosen.setdefault(entry.week_start, entry)
    entries = [chosen[week] for week in sorted(chosen)]
    decisions = {}
    for decision in db.session.scalars(queries.latest_decisions([e.id for e in entries])):
        decisions.setdefault(decision.entry_id, decision)

    used = {o.id for e in entries for t in e.tasks for o in t.objectives}
    objectives = [o for o in db.session.scalars(queries.objectives_of(course.id)) if not o.is_retired or o.id in used]
    sources: dict[str, str] = {}
    weeks = []
    for entry in entries:
        evidence = []
        for item in entry.evidence:
            is_image = item.content_type in IMAGE_TYPES
            evidence.append({"name": item.original_name, "size": item.size, "content_type": item.content_type,
                             "sha256": item.sha256, "image": is_image})
            if is_image:
                sources.setdefault(item.sha256, item.stored_name)
        decision = decisions.get(entry.id)
        weeks.append({
            "week": entry.week_start.isoformat(),
            "revision": entry.revision,
            "state": entry.state.value,
            "reflection_html": sanitise_html(entry.reflection_html or ""),
            "tasks": [{"description": t.description, "hours": _money(t.hours),
                       "objectives": [o.code for o in t.objectives]} for t in entry.tasks],
            "hours": _money(entry.hours),
            "evidence": evidence,
            "decision": None if decision is None else {
                "kind": decision.kind.value, "by": decision.decided_by_name,
                "at": decision.decided_at.isoformat(), "content_hash": decision.content_hash,
                "comment": decision.comment or ""},
        })

    supervisor = db.session.scalar(queries.current_supervisor(course.id, intern.id))
    document = {
        "format": "internship-portfolio/1",
        "scope": scope.value,
        "intern": {"name": intern.display_name},
        "course": {"title": course.display_title},
        "placement": None if placement is None else {
            "host_organisation": placement.host_organisation, "country": placement.country, "city": placement.city,
            "start_date": placement.start_date.isoformat(), "end_date": placement.end_date.isoformat(),
            "hours_per_week": _money(placement.hours_per_week), "timezone": placement.timezone,
            "work_language": placement.work_language},
        "supervisor": supervisor.display_name if supervisor else None,
        "advisors": [u.display_name for u in db.session.scalars(queries.advisors_of(course.id))],
        "objectives": [{"code": o.code, "title": o.title, "target": o.target} for o in objectives],
        "weeks": weeks,
        "totals": {
            "hours": _money(sum((Decimal(w["hours"]) for w in weeks), Decimal(0))),
            "weeks": len(weeks),
            "approved": sum(1 for w in weeks if w["state"] == EntryState.approved.value)},
        "grade": _grade(course.id, intern.id),
    }
    return document, sources


def _grade(course_id: int, intern_id: int) -> dict | None:
    """The rubric, feedback and grade, only once released."""
    grade = db.session.scalar(queries.released_grade(course_id, intern_id))
    if grade is None:
        return None
    rubric = db.session.scalar(queries.rubric_of(course_id))
    marks = {m.criterion_id: m for m in grade.marks}
    criteria = []
    for criterion in (rubric.criteria if rubric else []):
        mark = marks.get(criterion.id)
        level = mark.level if mark else None
        criteria.append({"title": criterion.title, "level": level.title if level else None,
                         "points": _money(level.points) if level else None,
                         "max_points": _money(criterion.max_points), "feedback": mark.feedback if mark else ""})
    return {"rubric": rubric.title if rubric else "", "criteria": criteria, "score": _money(grade.score),
            "maximum": _money(grade.score_maximum), "comment": grade.comment or "",
            "released_at": grade.released_at.isoformat() if grade.released_at else None}


def canonical_json(value) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(document: dict, locale: str) -> str:
    """The cache key: what the PDF shows, how it is laid out, in which language."""
    return hashlib.sha256(canonical_json(
        {"document": document, "locale": locale, "templates": template_version()})).hexdigest()


_template_version: str | None = None


def template_version() -> str:
    global _template_version
    if _template_version is None:
        digest = hashlib.sha256(f"{RENDER_VERSION}|{PDF_VARIANT}|{IMAGE_MAX_PX}|{IMAGE_QUALITY}".encode())
        folder = Path(current_app.template_folder) / "export"
        for name in TEMPLATES:
            digest.update((folder / name).read_bytes())
        _template_version = digest.hexdigest()
    return _template_version


# --- 2. the HTML ------------------------------------------------------------------------


def pdf_locale(user: User) -> str:
    """The intern's language as a Babel locale name (``en`` when unknown)."""
    tag = (user.effective_locale or "en").replace("-", "_")
    try:
        return str(Locale.parse(tag))
    except (ValueError, UnknownLocaleError):
        try:
            return str(Locale.parse(tag.split("_")[0]))
        except (ValueError, UnknownLocaleError):
            return "en"


def export_root() -> Path:
    return Path(current_app.config["STORAGE_DIR"]) / "export"


def prepare_images(sources: dict[str, str]) -> dict[str, str]:
    """Each image downscaled to print resolution, EXIF stripped, cached by its content hash.
    Pillow releases the GIL while decoding and encoding, so a few threads share the work."""
    from concurrent.futures import ThreadPoolExecutor

    from portfolio.evidence import storage

    folder = export_root() / "images"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = []
    for sha256, stored_name in sources.items():
        try:
            source = storage.path_for(stored_name)
        except ValueError:
            continue  # not a name storage made: listed by name instead
        jobs.append((sha256, source, folder / f"{sha256}-{IMAGE_MAX_PX}-{IMAGE_QUALITY}.jpg"))
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        done = list(pool.map(lambda job: _prepare_image(*job), jobs))
    return {sha256: str(target) for (sha256, _source, target), ok in zip(jobs, done) if ok}


def _prepare_image(sha256: str, source: Path, target: Path) -> bool:
    from PIL import Image, ImageOps

    if target.exists():
        return True
    try:
        with Image.open(source) as image:
            image.draft("RGB", (IMAGE_MAX_PX, IMAGE_MAX_PX))  # JPEG: decode at a fraction of the size
            image = ImageOps.exif_transpose(image)
            image.thumbnail((IMAGE_MAX_PX, IMAGE_MAX_PX), reducing_gap=2.0)
            if image.mode in ("RGBA", "LA", "P"):
                image = image.convert("RGBA")
                flat = Image.new("RGB", image.size, "white")
                flat.paste(image, mask=image.getchannel("A"))
                image = flat
            elif image.mode != "RGB":
                image = image.convert("RGB")
            partial = target.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
            image.save(partial, "JPEG", quality=IMAGE_QUALITY, dpi=(150, 150))  # no EXIF passed on
            os.replace(partial, target)
        return True
    except (OSError, ValueError, Image.DecompressionBombError):
        return False  # unreadable: listed by name instead


def build_html(document: dict, locale: str, *, images: dict[str, str], issued_at: datetime, code: str,
               verify_url: str) -> str:
    babel_locale = Locale.parse(locale)
    tz = ZoneInfo((document["placement"] or {}).get("timezone") or "UTC")

    def day(value: str | date, style: str = "long") -> str:
        value = date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(value, style, locale=babel_locale)

    def moment(value: str | datetime) -> str:
        value = datetime.fromisoformat(value) if isinstance(value, str) else value
        return format_datetime(value, "medium", tzinfo=tz, locale=babel_locale)

    def number(value) -> str:
        return format_decimal(Decimal(str(value)).normalize() if value is not None else 0, locale=babel_locale)

    def size(value: int) -> str:
        if value < 1024 * 1024:
            return _("%(n)s KB", n=format_decimal(round(value / 1024, 1), locale=babel_locale))
        return _("%(n)s MB", n=format_decimal(round(value / 1024 / 1024, 1), locale=babel_locale))

    def country(code: str) -> str:
        return babel_locale.territories.get(code, code)

    matrix = _matrix(document)
    language = locale.split("_")[0]
    # The document's own words from the nearest catalogue we have; dates and numbers in the exact locale.
    with force_locale(normalise_locale(locale) or "en"):
        return render_template(
            "export/portfolio.html", doc=document, lang=locale.replace("_", "-"),
            direction="rtl" if language in RTL_LANGUAGES else "ltr", images=images, issued_at=issued_at, code=code,
            verify_url=verify_url, matrix=matrix, day=day, moment=moment, number=number, size=size,
            country=country, css_string=css_string, approved=DecisionKind.approved.value)


def _matrix(document: dict) -> list[dict]:
    """Objective × week: how many tasks of each week served each objective."""
    rows = []
    for objective in document["objectives"]:
        counts = [sum(1 for t in w["tasks"] if objective["code"] in t["objectives"]) for w in document["weeks"]]
        rows.append({"objective": objective, "counts": counts, "total": sum(counts)})
    return rows


def css_string(value: str) -> Markup:
    """A CSS string literal: quotes, backslashes, newlines and '<' escaped, so safe inside <style>."""
    out = []
    for char in str(value):
        if char in '"\\<>' or ord(char) < 32:
            out.append(f"\\{ord(char):x} ")
        else:
            out.append(char)
    return Markup('"' + "".join(out) + '"')


# --- 3. the PDF, in a separate process -------------------------------------------------------


@dataclass
class Rendered:
    pages: int
    seconds: float
    peak_rss_kb: int


def render_pdf(html: str, *, files: dict[str, str], root: str, data: bytes, out_path: Path, timeout: float,
               memory_mb: int, on_progress=None, title: str = "") -> Rendered:
    """Render in a child process so a slow or huge portfolio cannot hang or sink the worker.
    ``files``: what the fetcher may serve (key → path under ``root``)."""
    started = time.monotonic()
    context = _process_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(html, files, root, data, str(out_path), memory_mb, sender, title),
                              daemon=True)
    process.start()
    sender.close()
    result = None
    deadline = started + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RenderFailed(_("Rendering took longer than %(seconds)s seconds and was stopped.",
                                     seconds=int(timeout)))
            if receiver.poll(min(0.5, remaining)):
                try:
                    kind, value = receiver.recv()
                except EOFError:
                    break
                if kind == "progress" and on_progress:
                    on_progress(value)
                elif kind == "done":
                    result = value
                    break
                elif kind == "error":
                    reason, detail = value
                    if reason == "memory":
                        raise RenderFailed(_("The portfolio needs more than %(mb)s MB of memory to render.",
                                             mb=memory_mb))
                    raise RenderFailed(_("The PDF could not be rendered: %(detail)s", detail=detail))
            elif not process.is_alive():
                break
    finally:
        if process.is_alive() and result is None:
            process.kill()
        process.join(5)
        receiver.close()
    if result is None:
        raise RenderFailed(_("The renderer stopped unexpectedly (more than %(mb)s MB of memory needed?).",
                             mb=memory_mb))
    pages, peak = result
    return Rendered(pages=pages, seconds=time.monotonic() - started, peak_rss_kb=peak)


_context = None


def warm_up() -> None:
    """Start the fork server now, so that its start overlaps with gathering the data."""
    from multiprocessing import forkserver

    _process_context()
    forkserver.ensure_running()


def _process_context():
    """A fork server that has imported WeasyPrint once: each render then starts in
    milliseconds, in a clean process of its own (never a fork of a threaded web worker)."""
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["weasyprint", "portfolio.export.fetcher"])
        _context = context
    return _context


def _child(html, files, root, data, out_path, memory_mb, sender, title):  # pragma: no cover - runs in the child
    import resource

    try:
        from weasyprint import HTML, Attachment
        from weasyprint.text.fonts import FontConfiguration

        from portfolio.export.fetcher import SafeFetcher

        # Fonts first, without the limit: a fontconfig that runs out of memory while
        # scanning a font folder writes an empty cache for it, for every program.
        font_config = FontConfiguration()
        if memory_mb:
            limit = memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        fetcher = SafeFetcher(files, root)
        document = HTML(string=html, url_fetcher=fetcher).render(font_config=font_config, pdf_variant=PDF_VARIANT,
                                                                 pdf_tags=True)
        sender.send(("progress", len(document.pages)))
        attachment = Attachment(string=data, name=ATTACHMENT_NAME, relationship="Data",
                                description="The portfolio's data, as shown in this document (JSON)")
        partial = f"{out_path}.part"
        document.metadata.title = title or document.metadata.title
        document.write_pdf(partial, pdf_variant=PDF_VARIANT, pdf_tags=True, attachments=[attachment])
        os.replace(partial, out_path)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        sender.send(("done", (len(document.pages), peak)))
    except MemoryError:
        sender.send(("error", ("memory", None)))
    except Exception as error:  # noqa: BLE001 - reported to the parent, which records it
        sender.send(("error", ("exception", f"{type(error).__name__}: {str(error)[:300]}")))
    finally:
        sender.close()
