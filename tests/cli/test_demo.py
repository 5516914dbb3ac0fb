"""``pedigree demo``: the README's main job, end to end on the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

from pedigree.ledger import verify_evidence
from pedigree.store import Ledger
from tests.cli.test_cli import ok, pedigree


def test_demo_records_the_pipeline_and_traces_the_model(tmp_path: Path) -> None:
    out = ok("demo", cwd=tmp_path)
    assert "upstream of model:demo:models/readmission" in out
    for step in (
        "synth/patients-generate",
        "synth/patients-mask",
        "models/readmission-train",
        "warehouse/patients",
    ):
        assert step in out
    assert "Audit: OK (11 records re-verified)" in out
    demo = tmp_path / "pedigree-demo"
    for name in (
        "data/patients.csv",
        "data/synthetic_patients.csv",
        "data/synthetic_patients_masked.csv",
        "models/readmission.json",
    ):
        assert (demo / name).is_file()
    # the store is found from inside the demo directory, and every record is provable
    with Ledger.open(demo / ".pedigree") as ledger:
        assert ledger.size == 11 and ledger.audit().ok
        for seq in range(1, 12):
            verify_evidence(ledger.prove(seq), ledger.location.public_key_path.read_text())
        graph = ledger.trace("models/readmission")
        assert len(graph.nodes) == 7
    assert "warehouse/patients" in ok("impact", "warehouse/patients", cwd=demo)


def test_demo_json_and_rerun(tmp_path: Path) -> None:
    first = json.loads(ok("demo", "here", "--json", cwd=tmp_path))
    assert first["audit"]["ok"] and first["records"] == 11
    assert {n["type"] for n in first["trace"]["nodes"]} == {
        "model_version",
        "run",
        "dataset_version",
    }
    second = json.loads(ok("demo", "here", "--json", cwd=tmp_path))
    assert second["records"] == 11  # a rerun replaces the earlier demo
    # same data, same content fingerprints
    assert {n["id"] for n in first["trace"]["nodes"] if n["type"] != "run"} == {
        n["id"] for n in second["trace"]["nodes"] if n["type"] != "run"
    }


def test_demo_refuses_to_overwrite_other_files(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    result = pedigree("demo", "mine", cwd=tmp_path)
    assert result.returncode == 2 and "not a Pedigree demo directory" in result.stderr
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
