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
    assert "2 ['dataset:default:synthetic/patients', 'dataset:default:warehouse/patients']" in out


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


def test_capture_guide_runs(tmp_path: Path) -> None:
    """The capture tutorial's examples record what it says, in a fresh store."""
    import numpy as np
    import pandas as pd

    from pedigree.capture import delivery, integrations
    from pedigree.model import Run
    from pedigree.store import Ledger

    Ledger.init(tmp_path / ".pedigree")[0].close()  # `pedigree init` (cwd is tmp_path)
    rng = np.random.default_rng(0)
    pd.DataFrame({"age": rng.integers(10, 90, 300), "sex": rng.choice(["F", "M"], 300)}).to_parquet(
        tmp_path / "patients.parquet"
    )
    text = (DOCS / "capture.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if "/srv/" not in b]
    assert len(blocks) >= 4
    namespace: dict[str, object] = {}
    try:
        for block in blocks:
            exec(compile(block, "docs/capture.md", "exec"), namespace)
        namespace["clean"](namespace["real"])  # type: ignore[operator]
    finally:
        integrations.disable()
        delivery.reset()
    with Ledger.open(tmp_path / ".pedigree") as ledger:
        runs = [e.body for e in ledger.entries() if isinstance(e.body, Run)]
    assert [r.job.name for r in runs if r.status == "completed"] == [
        "synth/patients-generate",
        "clean",
        "nightly/pipeline",
        "clean",
    ]
    assert (tmp_path / "out/patients.parquet").is_file()


def test_certificates_guide_runs(tmp_path: Path) -> None:
    """The keys-and-DSSE example signs and verifies; the verification example accepts a
    real bundle, with the data it certifies, in a fresh store directory."""
    import json

    import pandas as pd

    from pedigree.certify.certificate import certify
    from pedigree.fingerprint import fingerprint_path
    from pedigree.model import DatasetVersion
    from pedigree.store import Ledger

    ledger = Ledger.init(tmp_path / ".pedigree")[0]  # cwd is tmp_path
    text = (DOCS / "certificates.md").read_text()
    keys_block, verify_block, *_ = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    namespace: dict[str, object] = {}
    exec(compile(keys_block, "docs/certificates.md", "exec"), namespace)
    assert namespace["verified"].payload_type == "application/vnd.in-toto+json"  # type: ignore[attr-defined]
    assert (tmp_path / ".pedigree" / "keys" / "release.key").stat().st_mode & 0o777 == 0o600

    pd.DataFrame({"age": [31, 47, 52], "group": ["a", "b", "a"]}).to_parquet("data.parquet")
    with ledger:
        ledger.append(
            DatasetVersion(name="turnout", fingerprint=fingerprint_path("data.parquet").fingerprint)
        )
        signer = namespace["ring"].load_signer("release", passphrase=namespace["passphrase"])  # type: ignore[attr-defined]
        Path("turnout.bundle.json").write_text(json.dumps(certify(ledger, "turnout", signer)))
    Path("release.pub").write_text(namespace["ring"].public_pem("release"))  # type: ignore[attr-defined]
    Path("ledger.pub").write_text((tmp_path / ".pedigree" / "ledger.pub").read_text())
    exec(compile(verify_block, "docs/certificates.md", "exec"), namespace)
    assert namespace["report"].valid  # type: ignore[attr-defined]
