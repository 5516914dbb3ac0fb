"""Browsing through the ledger: datasets, jobs and runs page by page, on both backends."""

from __future__ import annotations

import pytest

from pedigree.errors import NotFoundError
from pedigree.store import Ledger
from tests.pipeline import record_pipeline


def test_datasets_and_models_filtered_and_paged(ledger: Ledger) -> None:
    record_pipeline(ledger)
    record_pipeline(ledger, tag="-2")  # a second version of each
    total, page = ledger.datasets()
    assert total == 4
    assert [d["id"] for d in page] == [
        "model:default:models/readmission",
        "dataset:default:synthetic/patients",
        "dataset:default:synthetic/patients-masked",
        "dataset:default:warehouse/patients",
    ]
    assert all(d["versions"] == 2 for d in page)
    assert page[1]["latest"]["id"].endswith(f"@{page[1]['latest']['version']}")
    assert ledger.datasets(query="PATIENTS", kind="dataset", limit=1, offset=1)[1][0]["name"] == (
        "synthetic/patients-masked"
    )
    assert ledger.datasets(kind="model")[0] == 1
    assert ledger.datasets(allowed=["elsewhere"]) == (0, [])
    assert ledger.datasets(query="100%_") == (0, [])  # wildcards are taken literally


def test_jobs_and_their_runs(ledger: Ledger) -> None:
    record_pipeline(ledger)
    total, jobs = ledger.jobs(query="synth/")
    assert total == 2 and [j["name"] for j in jobs] == ["synth/generate", "synth/mask"]
    assert all(j["runs"] == 1 for j in jobs)
    total, runs = ledger.runs(job="job:default:synth/mask")
    assert total == 1 and runs[0]["type"] == "run"
    assert ledger.runs(job="default:synth/mask")[0] == 1  # the job: prefix is optional
    assert ledger.runs(status="failed") == (0, [])
    assert ledger.runs()[0] == 3
    with pytest.raises(NotFoundError):
        ledger.runs(job="default:no-such-job")


def test_run_namespaces_and_records_holding(ledger: Ledger) -> None:
    pipeline = record_pipeline(ledger)
    run_id = str(pipeline.generate.run_id)
    assert ledger.run_namespaces([run_id, "not-a-run"]) == {run_id: "default"}
    assert ledger.run_namespaces([]) == {}
    seqs = ledger.records_holding("gaussian_copula")
    assert len(seqs) == 1 and ledger.entry(seqs[0]).body == pipeline.generate
    assert ledger.records_holding("nowhere-to-be-found") == []
