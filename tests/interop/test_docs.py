"""The OpenLineage tutorial (docs/openlineage.md) runs as written and prints what it shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "openlineage.md"


def test_the_openlineage_tutorial_runs_as_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = DOC.read_text(encoding="utf-8")
    pairs = re.findall(r"```python\n(.*?)```\s*(?:```\n(.*?)```)?", text, flags=re.S)
    assert len(pairs) >= 6
    namespace: dict[str, object] = {}
    for code, shown in pairs:
        exec(compile(code, str(DOC), "exec"), namespace)  # cwd is tmp_path
        printed = capsys.readouterr().out
        if shown:
            assert printed == shown, code
