"""``pedigree demo``: the README's main job, end to end on the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pedigree.fingerprint import fingerprint_path, table_fingerprint
from pedigree.ledger import verify_evidence
from pedigree.model import DatasetVersion, Run
from pedigree.store import Ledger
from tests.cli.test_cli import ok, pedigree

MODEL = "models/turnout-train/model"


def test_demo_records_the_real_pipeline_and_traces_the_model(tmp_path: Path) -> None:
    out = ok("demo", cwd=tmp_path)
    assert f"upstream of model:demo:{MODEL}" in out
    for step in (
        "warehouse/turnout-ingest",
        "synth/turnout-mask",
        "synth/turnout-split",
        "synth/turnout-generate",
        "copulas/GaussianMultivariate",
        "synth/turnout-rebalance",
        "sklearn/LogisticRegression",
        "warehouse/turnout@",
    ):
        assert step in out, step
    assert "Audit: OK" in out and "accuracy on the real hold-out" in out
    assert "VALID" in out and "INVALID" not in out
    demo = tmp_path / "pedigree-demo"
    for name in ("data/turnout.csv", "data/synthetic.parquet", "models/turnout.pkl"):
        assert (demo / name).is_file()
    with Ledger.open(demo / ".pedigree") as ledger:
        assert ledger.audit().ok
        for seq in range(1, ledger.size + 1):
            verify_evidence(ledger.prove(seq), ledger.location.public_key_path.read_text())
        entries = list(ledger.entries())
        runs = {e.body.job.name: e.body for e in entries if isinstance(e.body, Run)}
        versions = {e.body.name: e.body for e in entries if isinstance(e.body, DatasetVersion)}
    # the real table: people with sensitive attributes, direct identifier dropped by the mask
    raw = pd.read_csv(demo / "data/turnout.csv")
    assert {"race", "age", "income", "vote", "respondent_id"} <= set(raw.columns)
    assert len(raw) == 2000
    assert "respondent_id" not in {c.name for c in versions["warehouse/turnout-masked"].columns}
    # every file's recorded fingerprint is that of the file on disk (canonical form)
    assert (
        versions["synthetic/turnout"].version
        == fingerprint_path(demo / "data/synthetic.parquet").fingerprint
    )
    assert versions["warehouse/turnout"].version == table_fingerprint(raw).fingerprint
    rebalance = runs["synth/turnout-rebalance"]
    assert rebalance.intent.expect == ["imbalance_ratio(vote) <= 1.5"]
    assert rebalance.facets["metrics"]["imbalance_ratio_after"] <= 1.5
    assert runs["synth/turnout-generate"].seeds == {"random": 7, "numpy": 7}
    assert (
        runs["copulas/GaussianMultivariate"].parent_run_id == runs["synth/turnout-generate"].run_id
    )
    assert runs["sklearn/LogisticRegression"].parameters["max_iter"] == 1000
    assert runs["demo/turnout-pipeline"].status == "completed"
    assert "warehouse/turnout" in ok("impact", "warehouse/turnout", cwd=demo)


def test_demo_json_and_rerun_give_the_same_fingerprints(tmp_path: Path) -> None:
    first = json.loads(ok("demo", "here", "--json", cwd=tmp_path))
    assert first["audit"]["ok"] and first["records"] > 20
    assert first["certificate"]["verification"]["valid"]
    assert (tmp_path / "here" / first["certificate"]["bundle"]).is_file()
    assert {n["type"] for n in first["trace"]["nodes"]} == {
        "model_version",
        "run",
        "dataset_version",
    }
    second = json.loads(ok("demo", "here", "--json", cwd=tmp_path))
    assert second["records"] == first["records"]  # a rerun replaces the earlier demo
    content = lambda d: {n["id"] for n in d["trace"]["nodes"] if n["type"] != "run"}  # noqa: E731
    assert content(first) == content(second)  # seeded: same data, same fingerprints


def test_demo_refuses_to_overwrite_other_files(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    result = pedigree("demo", "mine", cwd=tmp_path)
    assert result.returncode == 2 and "not a Pedigree demo directory" in result.stderr
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
