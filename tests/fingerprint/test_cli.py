"""``pedigree fingerprint`` and ``pedigree diff`` through the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pedigree.cli.app import app
from pedigree.fingerprint import table_fingerprint


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    from pedigree.cli import commands, fingerprints, lineage  # noqa: F401  (registers commands)

    return CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    table = pa.table({"id": [1, 2, 3], "name": ["a", "b", None], "score": [1.5, 2.5, 3.5]})
    pq.write_table(table, tmp_path / "a.parquet")
    pa_csv.write_csv(table, tmp_path / "a.csv")
    changed = pa.table({"id": [1, 2, 3, 4], "label": ["a", "b", None, "d"], "score": [1, 2, 3, 4]})
    pq.write_table(changed, tmp_path / "b.parquet")
    pq.write_table(table.slice(0, 1), tmp_path / "c.parquet")
    (tmp_path / "notes.txt").write_text("not a table")
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 this is no parquet file PAR1")
    return tmp_path


def test_fingerprint_json(runner: CliRunner, files: Path) -> None:
    result = runner.invoke(app, ["fingerprint", str(files / "a.parquet"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = table_fingerprint(files / "a.parquet")
    assert data["fingerprint"] == expected.fingerprint
    assert data["size"] == (files / "a.parquet").stat().st_size and len(data["sha256"]) == 64
    assert data["rows"] == 3 and [c["name"] for c in data["columns"]] == ["id", "name", "score"]
    assert data["columns"][0] == {
        "name": "id",
        "type": "int",
        "arrow_type": "int64",
        "digest": expected.column("id").digest,
    }
    several = json.loads(
        runner.invoke(
            app, ["fingerprint", str(files / "a.parquet"), str(files / "a.csv"), "--json"]
        ).stdout
    )
    assert [d["fingerprint"] for d in several] == [expected.fingerprint] * 2
    assert several[0]["sha256"] != several[1]["sha256"]


def test_fingerprint_human_and_directories(runner: CliRunner, files: Path) -> None:
    result = runner.invoke(app, ["fingerprint", str(files / "a.csv")])
    assert result.exit_code == 0
    assert table_fingerprint(files / "a.csv").fingerprint in result.stdout
    assert "3 rows × 3 columns" in result.stdout
    folder = files / "parts"
    folder.mkdir()
    pq.write_table(pa.table({"x": [1, 2]}), folder / "0.parquet")
    pq.write_table(pa.table({"x": [3]}), folder / "1.parquet")
    data = json.loads(runner.invoke(app, ["fingerprint", str(folder), "--json"]).stdout)
    assert data["kind"] == "directory" and [f["path"] for f in data["files"]] == [
        "0.parquet",
        "1.parquet",
    ]
    assert data["fingerprint"] == table_fingerprint(pa.table({"x": [1, 2, 3]})).fingerprint


def test_non_table_files_need_any_file(runner: CliRunner, files: Path) -> None:
    refused = runner.invoke(app, ["fingerprint", str(files / "notes.txt")])
    assert refused.exit_code == 2 and "not a tabular file" in refused.stderr
    accepted = runner.invoke(app, ["fingerprint", "--any-file", str(files / "notes.txt"), "--json"])
    data = json.loads(accepted.stdout)
    assert accepted.exit_code == 0 and data["fingerprint"] is None and data["size"] == 11


def test_diff_exit_codes(runner: CliRunner, files: Path) -> None:
    same = runner.invoke(app, ["diff", str(files / "a.parquet"), str(files / "a.csv")])
    assert same.exit_code == 0 and same.stdout.startswith("same")
    differs = runner.invoke(app, ["diff", str(files / "a.parquet"), str(files / "b.parquet")])
    assert differs.exit_code == 1
    out = differs.stdout
    assert "rows     3 → 4 (+1)" in out
    assert "added    label" in out and "removed  name" in out
    assert "score: float → int" in out and "changed  id" in out
    data = json.loads(
        runner.invoke(
            app, ["diff", str(files / "a.parquet"), str(files / "c.parquet"), "--json"]
        ).stdout
    )
    assert data["same"] is False and data["rows"] == {"a": 3, "b": 1, "changed": True}
    assert data["a"]["path"].endswith("a.parquet") and set(data["changed"]) == {
        "id",
        "name",
        "score",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fingerprint", "{d}/missing.parquet"], "missing.parquet: no such file or directory"),
        (["fingerprint", "{d}/corrupt.parquet"], "corrupt.parquet: cannot read as parquet"),
        (["diff", "{d}/a.parquet", "{d}/missing.csv"], "missing.csv: no such file or directory"),
        (["diff", "{d}/notes.txt", "{d}/a.csv"], "notes.txt: not a tabular file"),
        (["diff", "{d}/a.parquet", "{d}/corrupt.parquet"], "cannot read as parquet"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    runner: CliRunner, files: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(app, [a.format(d=files) for a in args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_bad_input_in_a_real_process(files: Path) -> None:
    """As a real process on a narrow terminal: one line on stderr, no traceback."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pedigree",
            "diff",
            str(files / "a.parquet"),
            str(files / "corrupt.parquet"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "40"},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "cannot read as parquet" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unsupported_column_type(runner: CliRunner, tmp_path: Path) -> None:
    union = pa.UnionArray.from_sparse(pa.array([0], pa.int8()), [pa.array([1])])
    with (
        pa.OSFile(str(tmp_path / "u.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, pa.schema([("u", union.type)])) as w,
    ):
        w.write_table(pa.table({"u": union}))
    result = runner.invoke(app, ["fingerprint", str(tmp_path / "u.arrow")])
    assert result.exit_code == 2 and "column 'u': type sparse_union" in result.stderr
