"""``pedigree.run`` and ``@pedigree.step`` against a real store on each backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import pedigree
from pedigree.capture import delivery
from pedigree.capture.run import json_safe
from pedigree.errors import RecordError, StoreError
from pedigree.fingerprint import table_fingerprint
from pedigree.model import DatasetVersion, ModelVersion, Run
from pedigree.store import Ledger


def bodies(ledger: Ledger, kind: type) -> list:
    return [e.body for e in ledger.entries() if isinstance(e.body, kind)]


def frame(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "age": rng.integers(18, 90, n),
            "income": rng.random(n),
            "group": rng.choice(["a", "b"], n),
        }
    )


def test_a_run_records_inputs_outputs_parameters_and_context(
    captured: Ledger, tmp_path: Path
) -> None:
    real = frame()
    with pedigree.run(
        "synth/generate",
        kind="generate",
        intent="stand-in for the real table",
        expect=["dcr_share_closer_to_train <= 0.55"],
        parameters={"epochs": 3},
    ) as run:
        run.use(real, name="warehouse/people", role="source")
        pedigree.seed(11)
        synthetic = real.sample(frac=1.0, random_state=3).reset_index(drop=True)
        run.param("model", "bootstrap", random_state=3)
        run.metric("rows", np.int64(len(synthetic)))
        assert (
            run.produce(synthetic, name="synthetic/people", path=tmp_path / "syn.parquet")
            is synthetic
        )
    [record] = bodies(captured, Run)
    assert record.status == "completed" and record.kind == "generate"
    assert record.intent.text == "stand-in for the real table"
    assert record.intent.expect == ["dcr_share_closer_to_train <= 0.55"]
    assert record.parameters == {"epochs": 3, "model": "bootstrap", "random_state": 3}
    assert record.seeds["random_state"] == 3 and record.seeds["random"] == 11
    assert record.facets["metrics"] == {"rows": 50}
    assert record.environment.python and record.environment.packages_digest
    assert record.environment.packages  # a root run carries the package list
    assert record.code is not None and record.started_at <= record.ended_at
    [source] = record.inputs
    assert (source.name, source.role) == ("warehouse/people", "source")
    assert source.version == table_fingerprint(real).fingerprint
    [output] = record.outputs
    versions = {v.name: v for v in bodies(captured, DatasetVersion)}
    written = versions["synthetic/people"]
    # the table was written where asked, and the file's digest recorded beside its fingerprint
    assert (tmp_path / "syn.parquet").is_file() and written.files[0].path == "syn.parquet"
    assert written.version == output.version == table_fingerprint(synthetic).fingerprint
    assert written.row_count == 50 and [c.name for c in written.columns]
    assert (
        table_fingerprint(pd.read_parquet(tmp_path / "syn.parquet")).fingerprint == written.version
    )
    assert captured.audit().ok


def test_every_table_type_gives_the_same_version(captured: Ledger) -> None:
    real = frame()
    with pedigree.run("ingest", kind="ingest") as run:
        for obj in (real, pl.from_pandas(real), pa.Table.from_pandas(real, preserve_index=False)):
            run.use(obj, name="people")
    [record] = bodies(captured, Run)
    assert len({i.version for i in record.inputs}) == 1
    assert len(bodies(captured, DatasetVersion)) == 1


def test_a_table_keeps_its_name_from_one_step_to_the_next(captured: Ledger) -> None:
    with pedigree.run("a") as run:
        table = run.produce(frame(), name="shared/table")
    with pedigree.run("b") as run:
        run.use(table)  # no name: the one it was produced under
    graph = captured.trace("shared/table", direction="down")
    assert {n.label.split(" ")[0] for n in graph.nodes.values()} >= {"b"}


def test_a_failing_block_records_a_failed_run_and_re_raises(captured: Ledger) -> None:
    with pytest.raises(ZeroDivisionError), pedigree.run("fragile") as run:
        run.use(frame(), name="in")
        1 / 0  # noqa: B018
    [record] = bodies(captured, Run)
    assert record.status == "failed" and record.error.startswith("ZeroDivisionError")
    assert len(record.inputs) == 1 and captured.audit().ok


def test_nested_runs_name_their_parent(captured: Ledger) -> None:
    with (
        pedigree.run("pipeline", kind="pipeline", namespace="team") as outer,
        pedigree.run("step", kind="transform") as inner,
    ):
        pass
    runs = bodies(captured, Run)
    assert [(r.job.name, r.status) for r in runs] == [
        ("pipeline", "running"),
        ("step", "completed"),
        ("pipeline", "completed"),
    ]
    assert runs[1].parent_run_id == outer.run_id and inner.namespace == "team"
    assert not runs[1].environment.packages  # children share the root's package list


def test_a_model_is_recorded_by_the_digest_of_its_state(captured: Ledger, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.0, 3.5]))
    with pedigree.run("train", kind="train") as run:
        run.produce(model, name="models/lr", path=tmp_path / "lr.pkl")
    [version] = bodies(captured, ModelVersion)
    assert version.version.startswith("sha256:") and version.model_class.endswith(
        "LinearRegression"
    )
    assert version.framework.startswith("sklearn") and (tmp_path / "lr.pkl").is_file()


def test_bad_input_is_refused_and_nothing_is_recorded(captured: Ledger) -> None:
    with pytest.raises(RecordError, match="name the dataset"), pedigree.run("x") as run:
        run.use(frame())
    with (
        pytest.raises(RecordError, match="cannot record a builtins.dict"),
        pedigree.run("y") as run,
    ):
        run.use({"not": "a table"}, name="z")
    with pytest.raises(RecordError, match="does not exist"), pedigree.run("w") as run:
        run.use(Path("missing.csv"))
    # each failed block still records its failed run, with no inputs
    assert [r.status for r in bodies(captured, Run)] == ["failed", "failed", "failed"]
    assert not bodies(captured, DatasetVersion)


def test_no_store_is_a_clear_error_before_the_block_runs(tmp_path: Path) -> None:
    delivery.reset()
    ran = []
    with pytest.raises(StoreError, match="pedigree init"), pedigree.run("job"):
        ran.append(True)
    assert not ran


def test_step_captures_tables_scalars_and_outputs(captured: Ledger) -> None:
    @pedigree.step("clean", intent="drop rows without income", outputs="clean/people")
    def clean(table: pd.DataFrame, threshold: float = 0.5, label: str = "group") -> pd.DataFrame:
        return table[table["income"] < threshold]

    @pedigree.step("split")
    def split(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
        return table.iloc[:10], table.iloc[10:]

    cleaned = clean(frame(), threshold=0.7)
    split(cleaned)
    first, second = bodies(captured, Run)
    assert first.parameters == {"threshold": 0.7, "label": "group"}
    assert first.inputs[0].name == "clean/table" and first.outputs[0].name == "clean/people"
    assert second.inputs[0].name == "clean/people"  # the table kept its name
    assert [o.name for o in second.outputs] == ["split/output_0", "split/output_1"]


def test_the_same_table_is_fingerprinted_once(
    captured: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pedigree.capture import objects

    calls = []
    real = objects._table_content

    def counting(obj):  # type: ignore[no-untyped-def]
        calls.append(obj)
        return real(obj)

    monkeypatch.setattr(objects, "_table_content", counting)
    table = frame(200)
    with pedigree.run("twice") as run:
        run.use(table, name="t")
        run.use(table, name="t", role="again")
        run.produce(table, name="t2")
    assert len(calls) == 1


def test_json_safe_values() -> None:
    assert json_safe({"a": np.float32(0.5), "b": (1, 2), "c": float("nan"), 3: Path("/x")}) == {
        "a": 0.5,
        "b": [1, 2],
        "c": "nan",
        "3": "/x",
    }


def test_empty_run_from_a_script_in_a_fresh_process(tmp_path: Path) -> None:
    """The SDK finds the store the CLI created, from a plain script."""
    subprocess.run(
        [sys.executable, "-m", "pedigree", "init"], cwd=tmp_path, check=True, capture_output=True
    )
    script = tmp_path / "job.py"
    script.write_text(
        "import pedigree\n"
        "with pedigree.run('nightly', kind='ingest', intent='refresh'):\n"
        "    pedigree.seed(5)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    with Ledger.open(tmp_path / ".pedigree") as ledger:
        [record] = [e.body for e in ledger.entries()]
    assert record.job.name == "nightly" and record.seeds == {"random": 5, "numpy": 5}
    assert record.code.entry_point.endswith("job.py")
