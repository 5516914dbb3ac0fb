"""The Python walk-through in docs/python.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_python_guide_runs(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    text = (DOCS / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/python.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "[1, 2, 3, 4]" in out
    assert "run input default:ghost@1 is not recorded" in out
    assert "['used', 'generated', 'trained_on', 'generated']" in out


def test_the_independent_verifier_in_the_docs_checks_real_proofs(tmp_path: Path) -> None:
    import json

    import pytest

    from pedigree.store import Ledger
    from tests.pipeline import record_pipeline

    text = (DOCS / "verification.md").read_text()
    (block,) = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    verifier: dict[str, object] = {}
    exec(compile(block, "docs/verification.md", "exec"), verifier)
    check = verifier["check_inclusion"]

    ledger, _ = Ledger.init(tmp_path / "s")
    with ledger:
        record_pipeline(ledger)
        pem = ledger.location.public_key_path.read_bytes()
        for seq in range(1, ledger.size + 1):
            document = json.loads(ledger.prove(seq).model_dump_json())
            assert check(document, pem) is True  # type: ignore[operator]
        document["record"]["actor"] = "mallory"
        with pytest.raises(AssertionError, match="not in the signed tree"):
            check(document, pem)  # type: ignore[operator]
