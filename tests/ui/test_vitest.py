"""The front end's unit tests (Vitest: graph merging and expansion, layout input, URL
state, path highlighting, comparisons), run by ``make test`` through pytest."""

from __future__ import annotations

import os
import subprocess

from tests.ui.conftest import ROOT, npm, require

UI = ROOT / "ui"


def test_vitest_unit_tests_pass() -> None:
    command = npm()
    require(command is not None, "npm is not installed")
    require(
        (UI / "node_modules" / ".bin" / "vitest").exists(),
        "ui/node_modules is missing (run `make ui`)",
    )
    result = subprocess.run(
        [command, "test", "--silent"],
        cwd=UI,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CI": "true", "NO_COLOR": "1"},
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "passed" in result.stdout
