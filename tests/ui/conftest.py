"""Browser tests of the web UI: Debian's Chromium (``/usr/bin/chromium``) driven headless
by Playwright against a real ``pedigree serve`` app on loopback, loaded with the demo.

Playwright never downloads a browser here: it launches the system Chromium. Without
Chromium, Playwright or the UI build these tests skip on a developer machine and fail
under ``CI=true`` (``make test`` builds the UI and ``make chromium`` installs Chromium).

One demo store, one server and one browser serve the whole session (the demo takes a
few seconds); each test gets a fresh browser context (its own sessionStorage), and its
screenshots go to ``test-artifacts/ui/``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pedigree.model import Annotation, DatasetVersion, Run
from pedigree.server import create_app, tokens
from pedigree.server.ui import STATIC_DIR
from pedigree.store import Ledger
from tests.conftest import require as shared_require
from tests.pipeline import digest
from tests.server.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("PEDIGREE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "ui"
MODEL = "model:demo:models/turnout-train/model"
SYNTHETIC = "dataset:demo:synthetic/turnout"
TIMEOUT_MS = 15_000


def require(condition: bool, message: str) -> None:
    """Skip (developer machine) or fail (CI=true) when a prerequisite is missing."""
    shared_require(condition, message, "the UI tests")


@dataclass
class Demo:
    """The demo store with a certificate, and what the tests add to it."""

    directory: Path
    ledger: Ledger
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    cert: Path | None = None


def _cli(*args: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "pedigree", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 0, f"pedigree {' '.join(args)}: {result.stderr[-2000:]}"
    return result.stdout


def _extend(ledger: Ledger, demo: Demo) -> None:
    """What the demo lacks and the UI shows: a second version of synthetic/turnout (made
    with another seed) whose evaluation failed, a failed run, and a withdrawn dataset
    that runs still use."""
    latest: dict[str, DatasetVersion] = {}
    runs: dict[str, Run] = {}
    for entry in ledger.entries():
        if isinstance(entry.body, DatasetVersion):
            latest[entry.body.name] = entry.body
        elif isinstance(entry.body, Run):
            runs[entry.body.job.name] = entry.body
    first = latest["synthetic/turnout"]
    train = latest["warehouse/turnout-train"]
    masked = latest["warehouse/turnout-masked"]
    generate = runs["synth/turnout-generate"]
    second = DatasetVersion(
        namespace="demo",
        name="synthetic/turnout",
        fingerprint=digest("synthetic/turnout v2"),
        row_count=1000,
        columns=first.columns,
    )
    regenerate = Run(
        job={"namespace": "demo", "name": "synth/turnout-generate"},
        kind="generate",
        intent="release a shareable stand-in, seeded differently",
        parameters=dict(generate.parameters),
        seeds={"random": 8, "numpy": 8},
        code=generate.code,
        inputs=[train.io("real")],
        outputs=[second.io()],
    )
    failed_eval = Annotation(
        target=second.ref().target(),
        kind="evaluation",
        body={
            "passed": False,
            "summary": "1/2 thresholds missed",
            "headline": {
                "quality_score": {"value": 0.91, "threshold": 0.75, "passed": True},
                "membership_inference_risk": {"value": 0.31, "threshold": 0.2, "passed": False},
            },
            "metrics": [
                {"name": "quality_score", "family": "fidelity", "value": 0.91},
                {
                    "name": "membership_inference_risk",
                    "family": "privacy",
                    "value": 0.31,
                    "higher_is_better": False,
                },
            ],
        },
    )
    crashed = Run(
        job={"namespace": "demo", "name": "synth/turnout-generate-large"},
        kind="generate",
        status="failed",
        error="MemoryError: cannot allocate 48 GiB for the copula's covariance",
        parameters={"rows": 50_000_000},
        inputs=[train.io("real")],
    )
    withdrawn = Annotation(
        target=masked.ref().target(),
        kind="lifecycle",
        body={"state": "withdrawn", "reason": "consent withdrawn by 12 respondents"},
    )
    ledger.append_many([second, regenerate, failed_eval, crashed, withdrawn])
    demo.versions = {
        "v1": f"dataset:demo:synthetic/turnout@{first.version}",
        "v2": f"dataset:demo:synthetic/turnout@{second.version}",
        "masked": f"dataset:demo:warehouse/turnout-masked@{masked.version}",
    }


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo pipeline's store, certified, extended, served on loopback."""
    base = tmp_path_factory.mktemp("ui")
    directory = base / "demo"
    _cli("demo", str(directory), cwd=base)
    _cli("keys", "generate", "--name", "release", cwd=directory)
    _cli("certify", "synthetic/turnout", "--key", "release", "-o", "cert.json", cwd=directory)
    ledger = Ledger.open(directory / ".pedigree")
    try:
        site = Demo(directory, ledger, cert=directory / "cert.json")
        _extend(ledger, site)
        for role in ("admin", "analyst", "viewer"):
            site.tokens[role], _ = tokens.create(ledger, role=role, name=f"ui-{role}")
        site.tokens["expired"], _ = tokens.create(
            ledger,
            role="analyst",
            name="ui-expired",
            expires=datetime.now(UTC) - timedelta(hours=1),
        )
        with LiveServer(create_app(ledger)) as live:
            site.url = live.url
            yield site
    finally:
        ledger.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(
        Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM} (run `make chromium`)"
    )
    require(
        (STATIC_DIR / "index.html").is_file(),
        f"the web UI is not built in {STATIC_DIR} (run `make ui`)",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is not installed (pip install -e '.[dev]')")
        raise
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


class Console:
    """What the page wrote to its console: errors fail a test that expects none."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def clean(self, allow: tuple[str, ...] = ()) -> list[str]:
        # The browser itself logs every HTTP error response it receives (a test of a 404
        # asks for one); only the page's own errors count then.
        return [e for e in self.errors if not any(a in e for a in allow)]


@pytest.fixture
def open_page(
    browser: Any, demo: Demo, request: pytest.FixtureRequest
) -> Iterator[Callable[..., tuple[Any, Console]]]:
    """``open_page(path, role="admin")``: a new browser context signed in with ``role``'s
    token (``role=None``: signed out), at ``path``. Saves a screenshot of every page
    opened at the end of the test."""
    contexts: list[Any] = []
    pages: list[Any] = []

    def open_(
        path: str = "/", role: str | None = "admin", token: str | None = None
    ) -> tuple[Any, Console]:
        context = browser.new_context(viewport={"width": 1280, "height": 860})
        context.set_default_timeout(TIMEOUT_MS)
        secret = token or (demo.tokens[role] if role else None)
        if secret:
            context.add_init_script(
                f"window.sessionStorage.setItem('pedigree.token', {json.dumps(secret)});"
            )
        page = context.new_page()
        console = Console()
        page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: console.errors.append(f"page error: {e}"))
        page.goto(demo.url + path)
        contexts.append(context)
        pages.append(page)
        return page, console

    yield open_
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for i, page in enumerate(pages):
        name = request.node.name.replace("/", "_")
        with contextlib.suppress(Exception):  # a page already closed: nothing to keep
            page.screenshot(path=str(ARTIFACTS / f"{name}{'-' + str(i) if i else ''}.png"))
    for context in contexts:
        context.close()


def npm() -> str | None:
    return shutil.which("npm")
