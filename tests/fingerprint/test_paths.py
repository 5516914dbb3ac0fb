"""Paths: file digests, directory manifests, partitioned tables, diffs, bad input."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from pedigree.errors import FingerprintError
from pedigree.fingerprint import diff_tables, fingerprint_path, manifest_text, table_fingerprint


def _big(rows: int) -> pa.Table:
    return pa.table(
        {"i": pa.array(range(rows)), "s": pa.array([f"v{i % 97}" for i in range(rows)])}
    )


def test_partitioned_directory_equals_the_concatenated_table(tmp_path: Path) -> None:
    table = _big(10_000)
    bounds = [0, 1234, 1235, 6000, 10_000]  # partitions never line up with blocks
    (tmp_path / "data" / "year=2024").mkdir(parents=True)
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        pq.write_table(
            table.slice(a, b - a), tmp_path / "data" / "year=2024" / f"part-{n:02d}.parquet"
        )
    (tmp_path / "data" / "_SUCCESS").write_text("")
    fp = fingerprint_path(tmp_path / "data", block_rows=1000)
    assert fp.kind == "directory" and fp.format == "parquet"
    assert fp.table == table_fingerprint(table, block_rows=1000)
    assert fingerprint_path(tmp_path / "data").table == table_fingerprint(table)
    # the same partitions as CSV
    (tmp_path / "csv").mkdir()
    for n, (a, b) in enumerate(itertools.pairwise(bounds)):
        pa_csv.write_csv(table.slice(a, b - a), tmp_path / "csv" / f"part-{n}.csv")
    assert table_fingerprint(tmp_path / "csv") == table_fingerprint(table)


def test_partitions_may_differ_in_physical_type_and_column_order(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({"a": pa.array([1, 2], pa.int32()), "b": ["x", "y"]}), tmp_path / "0.parquet"
    )
    pq.write_table(
        pa.table({"b": pa.array(["z"], pa.large_string()), "a": pa.array([3], pa.int64())}),
        tmp_path / "1.parquet",
    )
    assert table_fingerprint(tmp_path) == table_fingerprint(
        pa.table({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    )
    pq.write_table(pa.table({"a": [4.5], "b": ["w"]}), tmp_path / "2.parquet")
    with pytest.raises(FingerprintError, match=r"2\.parquet: column 'a' is float here but int"):
        table_fingerprint(tmp_path)


def test_file_digest_and_directory_manifest(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "b.txt").write_bytes(b"bee")
    (tmp_path / "sub" / "a.bin").write_bytes(b"\x00" * 10)
    one = fingerprint_path(tmp_path / "b.txt")
    assert one.kind == "file" and one.table is None and one.fingerprint is None
    assert one.sha256 == hashlib.sha256(b"bee").hexdigest() and one.size == 3
    assert one.digest == f"sha256:{one.sha256}"
    folder = fingerprint_path(tmp_path)
    lines = [
        f"{hashlib.sha256(b'bee').hexdigest()} 3 b.txt\n",
        f"{hashlib.sha256(bytes(10)).hexdigest()} 10 sub/a.bin\n",
    ]
    assert manifest_text(list(folder.files)) == "".join(lines).encode()
    assert folder.sha256 == hashlib.sha256("".join(lines).encode()).hexdigest()
    assert folder.size == 13 and folder.table is None
    assert folder.to_json()["files"][1] == {
        "path": "sub/a.bin",
        "sha256": hashlib.sha256(bytes(10)).hexdigest(),
        "size": 10,
    }
    (tmp_path / "b.txt").write_bytes(b"bea")
    assert fingerprint_path(tmp_path).sha256 != folder.sha256


def test_bad_paths_are_one_line_errors(tmp_path: Path) -> None:
    cases = {
        "missing.csv": (None, "no such file or directory"),
        "notes.txt": (b"hello", "not a tabular file"),
        "broken.parquet": (b"PAR1 not really", "cannot read as parquet"),
        "broken.arrow": (b"ARROW1\x00\x00garbage", "cannot read as ipc"),
        "broken.jsonl": (b'{"a": 1}\n{"a": \n', "cannot read as jsonl"),
    }
    for name, (content, message) in cases.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
        with pytest.raises(FingerprintError, match=message) as info:
            table_fingerprint(tmp_path / name)
        assert "\n" not in str(info.value)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FingerprintError, match="holds no data files"):
        table_fingerprint(tmp_path / "empty")


def test_diff_reports_what_changed(tmp_path: Path) -> None:
    a = pa.table(
        {"id": [1, 2, 3], "name": ["a", "b", "c"], "score": [1.5, 2.0, 3.0], "gone": [0, 0, 0]}
    )
    b = pa.table(
        {"id": [1, 2, 3], "label": ["a", "b", "c"], "score": [1.5, 2.5, 3.0], "new": [1, 1, 1]}
    )
    result = diff_tables(a, b)
    assert not result.same and not result.rows_changed
    assert result.renamed == (("name", "label"),)
    assert result.changed == ("score",)
    assert result.removed == ("gone",) and result.added == ("new",)
    retyped = diff_tables(a, a.set_column(0, "id", pa.array([1.0, 2.0, 3.0])))
    assert [(c.name, c.before, c.after) for c in retyped.retyped] == [("id", "int", "float")]
    longer = diff_tables(a, pa.concat_tables([a, a.slice(0, 1)]))
    assert longer.rows_changed and set(longer.changed) == set(a.column_names)
    pq.write_table(a, tmp_path / "a.parquet")
    pa_csv.write_csv(a, tmp_path / "a.csv")
    same = diff_tables(tmp_path / "a.parquet", tmp_path / "a.csv")
    assert same.same and same.to_json()["same"] is True
    with pytest.raises(FingerprintError, match="different block sizes"):
        diff_tables(table_fingerprint(a, block_rows=2), table_fingerprint(a))
