"""The portfolio PDF export, measured: a 52-week portfolio (5 tasks and about 600 words a
week, one 1600×1200 photo a week) in a throw-away database, exported by the app, then the
same HTML rendered by WeasyPrint alone, then the unchanged portfolio exported again.

    .venv/bin/python bench/pdf.py [--weeks 52]

Prints pages, seconds, peak memory (the rendering process's and this process's), file
size, the ratio to the bare render, and the time of the cached re-export.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORDS = ("client workshop report meeting prototype supplier budget review planning analysis team presentation "
         "feedback customer schedule design testing survey market interview quality process documentation "
         "training colleague manager project deadline strategy data results learned improved prepared").split()


def reflection(rng: random.Random, words: int = 600) -> str:
    paragraphs, left = [], words
    while left > 0:
        n = min(left, rng.randint(60, 120))
        text = " ".join(rng.choice(WORDS) for _ in range(n))
        paragraphs.append(text[0].upper() + text[1:] + ".")
        left -= n
    return "\n\n".join(paragraphs)


def big_photo(rng: random.Random) -> bytes:
    from PIL import Image, ImageFilter

    small = Image.effect_noise((200, 150), rng.randint(40, 90)).convert("RGB")
    image = small.resize((1600, 1200), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(1))
    tint = Image.new("RGB", image.size, (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255)))
    image = Image.blend(image, tint, 0.35)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def build(weeks: int):
    from portfolio.db import db
    from portfolio.journal.models import EntryState
    from tests.export import builders

    rng = random.Random(7)
    course, intern, supervisor, advisor = builders.course_with_people(intern_name="Bench Intern")
    los = builders.objectives(course, 6)
    for i in range(weeks):
        week = date(2027, 3, 1) + timedelta(weeks=i)
        tasks = [(f"Task {j + 1} of week {i + 1}: " + " ".join(rng.choice(WORDS) for _ in range(8)),
                 f"{rng.randint(2, 9)}.5", rng.sample(los, 2)) for j in range(5)]
        entry = builders.week_entry(course, intern, week, state=EntryState.approved, reflection=reflection(rng),
                                    tasks=tasks, decided_by=supervisor)
        builders.add_evidence(entry, f"photo-week-{i + 1}.jpg", big_photo(rng), "image/jpeg")
    builders.release_grade(course, intern, advisor)
    db.session.commit()
    return course.id, intern.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()

    import flask_migrate

    from portfolio import create_app
    from portfolio.db import db
    from portfolio.export import operations, render
    from portfolio.export.models import ExportJob, JobState, Scope
    from portfolio.people.models import Membership, User

    folder = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}", "STORAGE_DIR": str(folder / "files"),
                      "SECRET_KEY": "bench-" + "x" * 40, "BASE_URL": "https://portfolio.example.edu",
                      "JOBS_MODE": "inline", "EXPORT_TIMEOUT": 600})
    with app.app_context():
        flask_migrate.upgrade()
        print(f"building a {args.weeks}-week portfolio in {folder} …", flush=True)
        course_id, intern_id = build(args.weeks)

    captured = {"timings": {}}
    real_build_html, real_render_pdf = render.build_html, render.render_pdf

    def timed(name, function):
        def wrapper(*a, **kw):
            started = time.perf_counter()
            try:
                return function(*a, **kw)
            finally:
                captured["timings"][name] = captured["timings"].get(name, 0) + time.perf_counter() - started
        return wrapper

    render.build_document = timed("data", render.build_document)
    render.prepare_images = timed("images", render.prepare_images)

    def capture_html(*a, **kw):
        captured["html"] = real_build_html(*a, **kw)
        captured["images"] = kw["images"]
        return captured["html"]

    def capture_render(*a, **kw):
        captured["data"] = kw["data"]
        captured["rendered"] = real_render_pdf(*a, **kw)
        return captured["rendered"]

    render.build_html, render.render_pdf = timed("html", capture_html), timed("render", capture_render)

    def export() -> tuple[float, ExportJob]:
        with app.app_context():
            membership = db.session.scalar(db.select(Membership).where(
                Membership.course_id == course_id, Membership.user_id == intern_id))
            started = time.perf_counter()
            job = operations.request_export(membership, db.session.get(User, intern_id), Scope.everything)
            db.session.commit()
            operations.start(job)
            job_id = job.id
            db.session.remove()
        with app.app_context():
            job = db.session.get(ExportJob, job_id)
            elapsed = time.perf_counter() - started
            assert job.state is JobState.done, job.message
            return elapsed, job.export.file_name, job.export.pages

    seconds, file_name, pages = export()
    with app.app_context():
        size = operations.file_path(file_name).stat().st_size
    rendered = captured["rendered"]
    own_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # The same HTML, WeasyPrint alone: its images from the same prepared files.
    from weasyprint import HTML

    html = captured["html"]
    for key, path in captured["images"].items():
        html = html.replace(f"stored:{key}", Path(path).as_uri())
    started = time.perf_counter()
    bare = HTML(string=html).write_pdf()
    plain_seconds = time.perf_counter() - started
    # …and with the options the app asks for (PDF/A-3b, tags, the JSON attachment).
    from weasyprint import Attachment

    started = time.perf_counter()
    HTML(string=html).write_pdf(pdf_variant=render.PDF_VARIANT, pdf_tags=True, attachments=[
        Attachment(string=captured["data"], name=render.ATTACHMENT_NAME, relationship="Data")])
    bare_seconds = time.perf_counter() - started

    again, _name, _pages = export()

    print(f"pages:                {pages}")
    print(f"export seconds:       {seconds:.2f} (render process {rendered.seconds:.2f})")
    print("  of which:            " + ", ".join(f"{k} {v:.2f} s" for k, v in captured["timings"].items()))
    print(f"bare WeasyPrint:      {bare_seconds:.2f} s with the same options (PDF/A-3b, tags, attachment); "
          f"{plain_seconds:.2f} s with none ({len(bare) / 1e6:.2f} MB)")
    print(f"ratio:                {seconds / bare_seconds:.3f} to the same options; "
          f"{seconds / plain_seconds:.3f} to a plain render")
    print(f"peak memory:          render process {rendered.peak_rss_kb / 1024:.0f} MB; app process {own_peak_mb:.0f} MB "
          f"(measured before the bare render)")
    print(f"file size:            {size / 1e6:.2f} MB")
    print(f"re-export unchanged:  {again * 1000:.1f} ms")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
