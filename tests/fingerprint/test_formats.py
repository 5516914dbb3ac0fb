"""The same logical table gives the same fingerprint from every format and library."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

from pedigree.errors import FingerprintError
from pedigree.fingerprint import fingerprint_path, table_fingerprint


def _write_ipc_stream(table: pa.Table, path: Path) -> None:
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table, max_chunksize=2)


def test_every_file_format_and_library_agrees(table: pa.Table, tmp_path: Path) -> None:
    ref = table_fingerprint(table)
    assert ref.fingerprint.startswith("ptf1:") and len(ref.fingerprint) == 5 + 64
    pq.write_table(table, tmp_path / "t.parquet", row_group_size=2)
    pq.write_table(table, tmp_path / "t.pq", compression="zstd")
    pa_csv.write_csv(table, tmp_path / "t.csv")
    pa_csv.write_csv(table, tmp_path / "t.tsv", write_options=pa_csv.WriteOptions(delimiter="\t"))
    feather.write_feather(table, tmp_path / "t.feather")
    feather.write_feather(table, tmp_path / "t.arrow", compression="uncompressed")
    _write_ipc_stream(table, tmp_path / "t.ipc")
    pl.from_arrow(table).write_csv(tmp_path / "polars.csv")
    for name in (
        "t.parquet",
        "t.pq",
        "t.csv",
        "t.tsv",
        "t.feather",
        "t.arrow",
        "t.ipc",
        "polars.csv",
    ):
        assert table_fingerprint(tmp_path / name) == ref, name
        assert fingerprint_path(tmp_path / name).fingerprint == ref.fingerprint, name

    assert table_fingerprint(table.to_batches(max_chunksize=2)[0]) == table_fingerprint(
        table.slice(0, 2)
    )
    reader = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=1))
    assert table_fingerprint(reader) == ref
    assert table_fingerprint(pl.from_arrow(table)) == ref
    assert table_fingerprint(pl.from_arrow(table).lazy()) == ref
    assert table_fingerprint(table.to_pandas(types_mapper=pd.ArrowDtype)) == ref
    # a file written by pandas, read back by pandas, and both sides through the fingerprint
    frame = pd.read_parquet(tmp_path / "t.parquet", dtype_backend="pyarrow")
    frame.to_parquet(tmp_path / "pandas.parquet")
    assert table_fingerprint(tmp_path / "pandas.parquet") == ref
    assert (
        table_fingerprint(pd.read_parquet(tmp_path / "pandas.parquet", dtype_backend="pyarrow"))
        == ref
    )


def test_json_lines(table: pa.Table, tmp_path: Path) -> None:
    """JSON has no date type: the table without its date column round-trips."""
    no_dates = table.drop_columns(["day"])
    pl.from_arrow(no_dates).write_ndjson(tmp_path / "t.jsonl")
    (tmp_path / "t.ndjson").write_bytes((tmp_path / "t.jsonl").read_bytes())
    ref = table_fingerprint(no_dates)
    assert table_fingerprint(tmp_path / "t.jsonl") == ref
    assert table_fingerprint(tmp_path / "t.ndjson") == ref


def test_compressed_text(table: pa.Table, tmp_path: Path) -> None:
    import gzip

    pa_csv.write_csv(table, tmp_path / "t.csv")
    (tmp_path / "t.csv.gz").write_bytes(gzip.compress((tmp_path / "t.csv").read_bytes()))
    assert table_fingerprint(tmp_path / "t.csv.gz") == table_fingerprint(table)


def test_pandas_conventions() -> None:
    """NaN/None/NaT are nulls; object columns of str are strings; categoricals are their
    values; a RangeIndex is ignored and any other index is data (as DataFrame.to_parquet)."""
    arrow = pa.table(
        {
            "x": [1.0, None, 3.0],
            "s": ["a", None, "c"],
            "t": pa.array([1, None, 3], pa.timestamp("ns")),
        }
    )
    frame = pd.DataFrame(
        {
            "x": [1.0, float("nan"), 3.0],
            "s": pd.Series(["a", None, "c"], dtype=object),
            "t": pd.to_datetime([1, None, 3]),
        }
    )
    assert table_fingerprint(frame) == table_fingerprint(arrow)
    assert table_fingerprint(frame.astype({"s": "category"})) == table_fingerprint(arrow)
    assert table_fingerprint(frame.set_axis(pd.RangeIndex(10, 13))) == table_fingerprint(arrow)
    named = frame.set_axis(pd.Index([7, 8, 9], name="key"))
    assert table_fingerprint(named) == table_fingerprint(
        arrow.append_column("key", pa.array([7, 8, 9]))
    )
    assert table_fingerprint(frame.iloc[[0, 2]]) == table_fingerprint(
        arrow.take([0, 2]).append_column("__index_level_0__", pa.array([0, 2]))
    )
    with pytest.raises(FingerprintError, match="duplicate column"):
        table_fingerprint(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(FingerprintError, match="cannot convert"):
        table_fingerprint(pd.DataFrame({"mixed": [1, "a"]}))


def test_tz_aware_pandas_and_polars_agree() -> None:
    stamps = pd.to_datetime(["2024-03-31 01:30", "2024-10-27 02:30"]).tz_localize(
        "Europe/Paris", ambiguous=[True, False]
    )
    frame = pd.DataFrame({"at": stamps})
    utc = pd.DataFrame({"at": stamps.tz_convert("UTC")})
    fp = table_fingerprint(frame)
    assert fp.column("at").type == "timestamp[utc]"
    assert fp == table_fingerprint(utc) == table_fingerprint(pl.from_pandas(frame))
    assert fp != table_fingerprint(pd.DataFrame({"at": stamps.tz_localize(None)}))


def test_csv_whose_types_change_after_the_first_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Streaming infers types from the first block; the file is then re-read whole."""
    from pedigree.fingerprint import readers

    monkeypatch.setattr(readers, "STREAM_BLOCK_BYTES", 1 << 10)
    lines = ["a,b"] + [f"{i},x" for i in range(2000)] + ["1.5,y"]
    path = tmp_path / "late.csv"
    path.write_text("\n".join(lines) + "\n")
    fp = table_fingerprint(path)
    assert fp.column("a").type == "float"
    assert fp == table_fingerprint(pa_csv.read_csv(path))
