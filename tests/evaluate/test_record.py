"""Evaluations recorded as lineage: the run, the annotation, thresholds, expectations, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

import pedigree
from pedigree.model import Annotation, Run
from pedigree.store import Ledger
from tests.cli.test_cli import pedigree as cli

FAST = ("fairness", "utility")


def people(n: int, seed: int, rate: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < 0.3, "b", "a")
    return pd.DataFrame(
        {
            "group": group,
            "age": rng.integers(18, 80, n),
            "label": (rng.random(n) < rate).astype(int),
        }
    )


def annotations(ledger: Ledger, kind: str) -> list[Annotation]:
    return [
        e.body for e in ledger.entries() if isinstance(e.body, Annotation) and e.body.kind == kind
    ]


def record_generation(
    tmp_path: Path, synthetic: pd.DataFrame, real: pd.DataFrame, name: str = "synthetic/people"
) -> None:
    with pedigree.run(
        "synth/generate",
        kind="generate",
        expect=["imbalance_ratio(label) <= 1.2", "utility_ratio(label) >= 0.5"],
    ) as run:
        run.use(real, name="real/people")
        run.produce(synthetic, name=name, path=tmp_path / f"{name.replace('/', '_')}.parquet")


def test_evaluate_records_a_run_an_evaluation_and_the_expectation_check(
    captured: Ledger, tmp_path: Path
) -> None:
    real, holdout, synthetic = people(2_000, 0), people(800, 1), people(2_000, 2)
    record_generation(tmp_path, synthetic, real)
    evaluation = pedigree.evaluate(
        synthetic, real, holdout, target="label", sensitive=["group"], families=FAST
    )
    assert evaluation.passed, evaluation.summary()
    evaluate_run = next(
        e.body for e in captured.entries() if isinstance(e.body, Run) and e.body.kind == "evaluate"
    )
    assert {(i.name, i.role) for i in evaluate_run.inputs} == {
        ("synthetic/people", "synthetic"),
        ("real/people", "real"),
        ("evaluate/synthetic/people/holdout", "holdout"),
    }
    assert (
        evaluate_run.parameters["target"] == "label"
        and evaluate_run.parameters["libraries"]["scikit-learn"]
    )
    [annotation] = annotations(captured, "evaluation")
    assert annotation.target.name == "synthetic/people"
    assert annotation.body["passed"] is True and "utility_ratio" in annotation.body["headline"]
    [check] = annotations(captured, "expectations")
    statuses = {r["expect"]: r["status"] for r in check.body["results"]}
    assert statuses == {
        "imbalance_ratio(label) <= 1.2": "held",
        "utility_ratio(label) >= 0.5": "held",
    }
    assert check.body["held"] is True
    assert captured.audit().ok


def test_thresholds_come_from_the_intended_use_and_a_new_version_is_compared(
    captured: Ledger, tmp_path: Path
) -> None:
    real, holdout = people(2_000, 0), people(800, 1)
    record_generation(tmp_path, people(2_000, 2), real)
    captured.append(
        Annotation(
            target={"type": "dataset", "name": "synthetic/people"},
            kind="intended_use",
            body={
                "purpose": "partner sharing",
                "audience": "external",
                "thresholds": {"utility_ratio": 5.0},
            },
        )
    )
    first = pedigree.evaluate(
        "synthetic/people", real, holdout, target="label", sensitive=["group"], families=FAST
    )
    assert first.threshold_source == "external defaults, then the recorded intended use"
    assert [r.key for r in first.failed] == ["utility_ratio[label]"]
    # a later version of the same dataset: its evaluation is compared with the earlier one
    skewed = people(2_000, 3, rate=0.9)
    record_generation(tmp_path, skewed, real)
    pedigree.evaluate(skewed, real, holdout, target="label", sensitive=["group"], families=FAST)
    latest = annotations(captured, "evaluation")[-1]
    changes = latest.body["compared_to"]["changes"]
    assert (
        latest.body["compared_to"]["version"]
        == annotations(captured, "evaluation")[0].target.version
    )
    assert (
        changes["utility_ratio"]["previous"] is not None
        and changes["utility_ratio"]["change"] is not None
    )


def test_record_false_writes_nothing(captured: Ledger) -> None:
    before = captured.size
    pedigree.evaluate(people(500, 2), people(500, 0), target="label", families=FAST, record=False)
    assert captured.size == before


def test_cli_eval_check_and_exit_codes(tmp_path: Path) -> None:
    assert cli("init", cwd=tmp_path).returncode == 0
    real, holdout, synthetic = people(1_500, 0), people(600, 1), people(1_500, 2)
    for name, frame in (("real", real), ("holdout", holdout), ("syn", synthetic)):
        frame.to_parquet(tmp_path / f"{name}.parquet")
    args = [
        "eval",
        "syn.parquet",
        "--real",
        "real.parquet",
        "--holdout",
        "holdout.parquet",
        "--target",
        "label",
        "--sensitive",
        "group",
        "--family",
        "fairness",
        "--family",
        "utility",
    ]
    done = cli(*args, "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["passed"] is True
    failing = cli(*args, "--threshold", "utility_ratio=3", cwd=tmp_path)
    assert (
        failing.returncode == 1 and "FAILED" in failing.stdout and "utility_ratio" in failing.stdout
    )
    # bad input: one clear line, exit 2, nothing recorded
    with Ledger.open(tmp_path / ".pedigree") as ledger:
        size = ledger.size
    real.drop(columns=["age"]).to_parquet(tmp_path / "narrow.parquet")
    for bad, message in (
        (["eval", "narrow.parquet", "--real", "real.parquet"], "only in the real table: age"),
        (
            ["eval", "missing.parquet", "--real", "real.parquet"],
            "neither a file nor a recorded version",
        ),
        (["eval", "syn.parquet", "--real", "real.parquet", "--threshold", "oops"], "NAME=NUMBER"),
        (["eval", "syn.parquet", "--real", "real.parquet", "--family", "vibes"], "unknown family"),
    ):
        result = cli(*bad, cwd=tmp_path)
        assert result.returncode == 2 and message in result.stderr, (bad, result.stderr)
        assert "Traceback" not in result.stderr
    with Ledger.open(tmp_path / ".pedigree") as ledger:
        assert ledger.size == size
    # `pedigree check` finds nothing unchecked here; --no-record needs no store
    assert cli("check", cwd=tmp_path).returncode == 0
    (tmp_path / "elsewhere").mkdir()
    loose = cli(
        "eval",
        "../syn.parquet",
        "--real",
        "../real.parquet",
        "--family",
        "fairness",
        "--sensitive",
        "group",
        "--no-record",
        cwd=tmp_path / "elsewhere",
    )
    assert loose.returncode == 0, loose.stderr


def test_cli_drift_between_recorded_versions_and_files(tmp_path: Path) -> None:
    assert cli("init", cwd=tmp_path).returncode == 0
    before, after = people(1_000, 0), people(1_000, 1)
    shifted = after.assign(age=after["age"] + 30)
    before.to_parquet(tmp_path / "before.parquet")
    shifted.to_parquet(tmp_path / "after.parquet")
    with (
        Ledger.open(tmp_path / ".pedigree") as ledger,
        pedigree.run("ingest", kind="ingest", ledger=ledger) as run,
    ):
        run.use(tmp_path / "before.parquet", name="people")
    same = cli("drift", "people", "before.parquet", "--json", cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert all(r["value"] == 0 for r in json.loads(same.stdout) if r["name"] == "psi")
    moved = cli("drift", "people", "after.parquet", cwd=tmp_path)
    assert moved.returncode == 1 and "FAIL" in moved.stdout
