"""Real Chromium (Debian's), driven by Playwright, against the live test server.

The sandbox LMS page is opened at ``localhost`` while the tool's BASE_URL is
``127.0.0.1``: the two are different sites, so the tool runs in a cross-site iframe
exactly as it does inside Moodle or Canvas, with third-party cookie rules in force.

Screenshots of every step go to ``artifacts/browser/<database>/<test>/`` (CI keeps
``artifacts/``), and every axe-core run is recorded in ``artifacts/browser/<database>/axe.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("PORTFOLIO_CHROMIUM", "/usr/bin/chromium")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
# axe-core impacts that fail a page; "moderate" and "minor" are recorded only.
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def artifacts_dir(database_url) -> Path:
    name = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    path = ARTIFACTS / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture(scope="session")
def playwright_driver():
    from playwright.sync_api import sync_playwright

    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is needed for tests/browser and is not at {CHROMIUM}: run scripts/system-deps "
                    "(as root it installs Debian's chromium), or set PORTFOLIO_CHROMIUM to its path", pytrace=False)
    with sync_playwright() as driver:
        yield driver


def launch_chromium(driver, *extra_args: str):
    args = ["--disable-dev-shm-usage", *extra_args]
    if os.geteuid() == 0:  # Chromium's own sandbox refuses to run as root
        args.append("--no-sandbox")
    return driver.chromium.launch(executable_path=CHROMIUM, args=args)


@pytest.fixture(scope="session")
def browser(playwright_driver):
    chromium = launch_chromium(playwright_driver)
    yield chromium
    chromium.close()


@pytest.fixture
def sites(app):
    """The tool's origin (BASE_URL) and the sandbox LMS's origin: another site."""
    tool = app.config["BASE_URL"]
    return {"tool": tool, "lms": tool.replace("//127.0.0.1:", "//localhost:")}


@pytest.fixture
def demo(app):
    """The sandbox's demo course: objectives, rubric, three interns with weeks in every state."""
    from lti.sandbox.demo import load_demo
    from portfolio.db import db

    with app.test_request_context(base_url=app.config["BASE_URL"]):  # as `flask demo load` does
        load_demo()
        db.session.commit()


class Shots:
    """Numbered full-page screenshots of one test."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.count = 0

    def __call__(self, page, name: str) -> Path:
        self.count += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.png"
        frame = page.query_selector("iframe.lms-frame")
        if frame is None or frame.content_frame() is None:
            page.screenshot(path=str(path), full_page=True)
            return path
        # The whole of the tool's page, not only what the LMS frame's height shows. The
        # tool is a cross-site (out-of-process) frame, which Chromium paints only inside
        # the viewport: the viewport grows for the picture.
        height = frame.content_frame().evaluate("document.documentElement.scrollHeight")
        frame.evaluate("(el, h) => { el.style.height = (h + 4) + 'px'; }", height)
        viewport = page.viewport_size
        total = page.evaluate("document.documentElement.scrollHeight")
        page.set_viewport_size({"width": viewport["width"], "height": max(total, viewport["height"])})
        try:
            page.screenshot(path=str(path), full_page=True)
        finally:
            page.set_viewport_size(viewport)
            frame.evaluate("el => { el.style.height = ''; }")
        return path


@pytest.fixture
def shots(request, artifacts_dir) -> Shots:
    return Shots(artifacts_dir / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-"))


class AxeLog:
    """Runs axe-core in a page or frame and keeps every result for the report."""

    def __init__(self, path: Path):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.path = path
        self.runs: list[dict] = json.loads(path.read_text()) if path.exists() else []

    def check(self, target, name: str) -> list[dict]:
        """Violations of ``target`` (a Page or Frame); the serious and critical ones are returned."""
        target.evaluate(self.axe.axe_script)
        response = target.evaluate("axe.run(document, {resultTypes: ['violations']})")
        violations = [
            {"id": v["id"], "impact": v["impact"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:10]}
            for v in response["violations"]
        ]
        self.runs.append({"page": name, "url": target.url, "violations": violations})
        self.path.write_text(json.dumps(self.runs, indent=1))
        return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


@pytest.fixture(scope="session")
def axe_log(artifacts_dir) -> AxeLog:
    return AxeLog(artifacts_dir / "axe.json")


def wait_until(check, timeout: float = 15.0, interval: float = 0.2, message: str = "condition"):
    """Poll ``check`` until it returns something truthy (deliveries run after the response)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
