"""The canonical table fingerprint: fixed-size row blocks, BLAKE3 per column and block, a tree.

Any table-like input (Arrow, pandas, Polars, a file or a directory of partitions) becomes a
stream of Arrow record batches; the stream is cut into blocks of exactly ``block_rows`` rows
(wherever the input's own chunks happen to end), every column of every block is encoded by
:mod:`pedigree.fingerprint.canonical` and hashed on a thread pool (BLAKE3 and NumPy release
the GIL), and the block digests are combined in order into one digest per column and one for
the table. Only a few blocks are in flight at a time, so memory stays bounded however large a
file is.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from blake3 import blake3

from pedigree.errors import FingerprintError
from pedigree.fingerprint.canonical import FORMAT, type_tag, u64
from pedigree.fingerprint.fast import hash_block

DEFAULT_BLOCK_ROWS = 1 << 19
"""Rows per block (524,288). Part of the canonical form: another size gives other values.

Large enough that per-block overhead (Python, thread hand-offs) is a few percent of the
hashing, small enough that a block of a 100-column table is a few hundred megabytes."""

IN_FLIGHT_BYTES = 512 << 20
"""Blocks waiting for their digests hold at most about this much (but always one block)."""

COLUMN_DOMAIN = f"{FORMAT}/column\x00".encode()
TABLE_DOMAIN = f"{FORMAT}/table\x00".encode()

Progress = Callable[[int], None]
"""Called with the number of rows hashed so far."""


@dataclass(frozen=True, slots=True)
class ColumnFingerprint:
    """One column: its name, type class, Arrow type as read (informative only) and digest."""

    name: str
    type: str
    arrow_type: str
    digest: str

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "type": self.type,
            "arrow_type": self.arrow_type,
            "digest": self.digest,
        }


@dataclass(frozen=True, slots=True, eq=False)
class TableFingerprint:
    """The canonical fingerprint of a table, with its row count and per-column digests.

    Columns are listed in canonical (sorted-name) order, the order the fingerprint hashes them.
    Two fingerprints are equal when their values are (the Arrow types as read may differ).
    """

    fingerprint: str
    rows: int
    columns: tuple[ColumnFingerprint, ...]
    block_rows: int = DEFAULT_BLOCK_ROWS

    def __str__(self) -> str:
        return self.fingerprint

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TableFingerprint):
            return self.fingerprint == other.fingerprint
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def column(self, name: str) -> ColumnFingerprint:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def to_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "rows": self.rows,
            "block_rows": self.block_rows,
            "columns": [c.to_json() for c in self.columns],
        }


def fingerprint_prefix(block_rows: int) -> str:
    """``ptf1`` for the canonical block size, ``ptf1-b<rows>`` for any other (never equal)."""
    return FORMAT if block_rows == DEFAULT_BLOCK_ROWS else f"{FORMAT}-b{block_rows}"


# --- inputs -> a stream of record-batch parts --------------------------------------------------


@dataclass
class TablePart:
    """One piece of the input in order (a table, a file): its schema and its batches."""

    schema: pa.Schema
    batches: Iterable[pa.RecordBatch]
    label: str = ""


def table_parts(obj: Any) -> list[TablePart]:
    """An in-memory table as Arrow parts, without importing pandas or Polars unless the object
    comes from them (paths go through ``readers.path_table_fingerprint``)."""
    if isinstance(obj, pa.Table):
        return [TablePart(obj.schema, obj.to_batches())]
    if isinstance(obj, pa.RecordBatch):
        return [TablePart(obj.schema, [obj])]
    if isinstance(obj, pa.RecordBatchReader):
        return [TablePart(obj.schema, obj)]
    module = type(obj).__module__.split(".")[0]
    if module == "pandas":
        return [_from_table(_pandas_table(obj))]
    if module == "polars":
        return [_from_table(_polars_table(obj))]
    if hasattr(obj, "__arrow_c_stream__"):
        reader = pa.RecordBatchReader.from_stream(obj)
        return [TablePart(reader.schema, reader)]
    raise FingerprintError(
        f"cannot fingerprint a {type(obj).__name__}: expected a pyarrow Table, RecordBatch or "
        "RecordBatchReader, a pandas or Polars DataFrame, a Polars LazyFrame, or a path"
    )


def to_arrow(obj: Any) -> pa.Table:
    """The Arrow table a pandas, Polars or Arrow object is fingerprinted as (pandas as
    ``to_parquet`` stores it), so a table written from it fingerprints the same."""
    parts = table_parts(obj)
    return pa.Table.from_batches(
        [batch for part in parts for batch in part.batches], schema=parts[0].schema
    )


def _from_table(table: pa.Table) -> TablePart:
    return TablePart(table.schema, table.to_batches())


def _pandas_table(df: Any) -> pa.Table:
    """pandas as ``DataFrame.to_parquet`` stores it: a RangeIndex (named or not) is dropped,
    any other index becomes columns (its name, or ``__index_level_<i>__``); NaN, None and NaT
    become nulls."""
    import pandas as pd

    if isinstance(df, pd.Series):
        df = df.to_frame()
    if not isinstance(df, pd.DataFrame):
        raise FingerprintError(f"cannot fingerprint a {type(df).__name__}")
    if df.columns.duplicated().any():
        dupes = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise FingerprintError(f"the DataFrame has duplicate column names: {', '.join(dupes)}")
    try:
        return pa.Table.from_pandas(df, preserve_index=None)
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise FingerprintError(f"cannot convert the DataFrame to Arrow: {one_line(exc)}") from exc


def _polars_table(obj: Any) -> pa.Table:
    import polars as pl

    if isinstance(obj, pl.LazyFrame):
        obj = obj.collect()
    if isinstance(obj, pl.Series):
        obj = obj.to_frame()
    if not isinstance(obj, pl.DataFrame):
        raise FingerprintError(f"cannot fingerprint a {type(obj).__name__}")
    return obj.to_arrow()


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --- the engine ---------------------------------------------------------------------------


@dataclass
class _Columns:
    """The canonical column order and classes, fixed by the first part."""

    names: list[str]
    tags: list[str]
    arrow_types: list[str]

    @classmethod
    def of(cls, schema: pa.Schema, label: str) -> _Columns:
        names = list(schema.names)
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise FingerprintError(f"{label}duplicate column names: {', '.join(dupes)}")
        ordered = sorted(names)
        tags, arrow_types = [], []
        for name in ordered:
            t = schema.field(name).type
            try:
                tags.append(type_tag(t))
            except FingerprintError as exc:
                raise FingerprintError(f"{label}column {name!r}: {exc}") from None
            arrow_types.append(str(t))
        return cls(ordered, tags, arrow_types)

    def selector(self, schema: pa.Schema, label: str) -> list[int]:
        """Where each canonical column sits in ``schema`` (checking names and classes)."""
        names = list(schema.names)
        if sorted(names) != self.names:
            missing = sorted(set(self.names) - set(names))
            extra = sorted(set(names) - set(self.names))
            detail = "; ".join(
                x
                for x in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"extra {', '.join(extra)}" if extra else "",
                )
                if x
            )
            raise FingerprintError(
                f"{label}columns differ from the first part ({detail or 'duplicates'})"
            )
        index = [names.index(n) for n in self.names]
        for name, tag, i in zip(self.names, self.tags, index, strict=True):
            other = type_tag(schema.field(i).type)
            if other != tag:
                raise FingerprintError(
                    f"{label}column {name!r} is {other} here but {tag} in the first part"
                )
        return index


def _blocks(
    parts: Iterable[TablePart], block_rows: int, holder: list[_Columns]
) -> Iterator[list[pa.RecordBatch]]:
    """Cut the parts' batches (columns in canonical order) into blocks of ``block_rows`` rows."""
    pending: list[pa.RecordBatch] = []
    filled = 0
    for part in parts:
        label = f"{part.label}: " if part.label else ""
        if not holder:
            holder.append(_Columns.of(part.schema, label))
        columns = holder[0]
        index = columns.selector(part.schema, label)
        identity = index == list(range(len(index)))
        checked: pa.Schema = part.schema
        for batch in part.batches:
            if not batch.schema.equals(checked):
                index = columns.selector(batch.schema, label)
                identity = index == list(range(len(index)))
                checked = batch.schema
            if not identity:
                batch = batch.select(index)
            position, length = 0, batch.num_rows
            while position < length:
                take = min(block_rows - filled, length - position)
                whole = position == 0 and take == length
                pending.append(batch if whole else batch.slice(position, take))
                filled += take
                position += take
                if filled == block_rows:
                    yield pending
                    pending, filled = [], 0
    if filled:
        yield pending


def _block_digest(tag: bytes, rows: int, chunks: Sequence[pa.Array]) -> bytes:
    """BLAKE3 of ``tag 0x00 u64(rows)`` and the column's canonical bytes in this block."""
    hasher = blake3(tag + b"\x00" + u64(rows))

    def update(part: Any) -> None:
        # BLAKE3 takes unsigned-byte buffers: view NumPy arrays as such (no copy)
        hasher.update(part.reshape(-1).view(np.uint8) if isinstance(part, np.ndarray) else part)

    hash_block(update, chunks)
    return hasher.digest()


def fingerprint_parts(
    parts: Iterable[TablePart],
    *,
    block_rows: int | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> TableFingerprint:
    """The engine behind :func:`table_fingerprint`: blocks in, digests combined in order."""
    block_rows = DEFAULT_BLOCK_ROWS if block_rows is None else int(block_rows)
    if block_rows < 1:
        raise FingerprintError("block_rows must be at least 1")
    threads = threads or default_threads()
    holder: list[_Columns] = []
    hashers: list[Any] = []
    tags: list[bytes] = []
    rows = done = 0
    window: deque[tuple[int, int, list[Future[bytes]]]] = deque()
    in_flight = 0

    def drain() -> None:
        nonlocal done, in_flight
        n, size, futures = window.popleft()
        in_flight -= size
        for hasher, future in zip(hashers, futures, strict=True):
            hasher.update(future.result())
        done += n
        if progress is not None:
            progress(done)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="pedigree-fp") as pool:
        try:
            for block in _blocks(parts, block_rows, holder):
                if not hashers:
                    tags = [t.encode() for t in holder[0].tags]
                    hashers = [blake3(COLUMN_DOMAIN + tag + b"\x00") for tag in tags]
                n = sum(b.num_rows for b in block)
                names = holder[0].names
                futures = [
                    pool.submit(_column_block, names[j], tag, n, [b.column(j) for b in block])
                    for j, tag in enumerate(tags)
                ]
                size = sum(b.nbytes for b in block)
                window.append((n, size, futures))
                in_flight += size
                rows += n
                while len(window) > threads + 1 or (
                    len(window) > 1 and in_flight > IN_FLIGHT_BYTES
                ):
                    drain()
            while window:
                drain()
        except BaseException:
            for _, _, pending in window:
                for future in pending:
                    future.cancel()
            raise
    if not holder:  # an input with no parts at all (an empty directory is refused earlier)
        raise FingerprintError("nothing to fingerprint")
    columns = holder[0]
    if not hashers:  # no rows: every column digest covers zero blocks
        tags = [t.encode() for t in columns.tags]
        hashers = [blake3(COLUMN_DOMAIN + tag + b"\x00") for tag in tags]
    digests = [h.digest() for h in hashers]
    table = blake3(TABLE_DOMAIN + u64(block_rows) + u64(rows) + u64(len(columns.names)))
    for name, tag, digest in zip(columns.names, tags, digests, strict=True):
        raw = name.encode("utf-8", "surrogatepass")
        table.update(u64(len(raw)) + raw + u64(len(tag)) + tag + digest)
    return TableFingerprint(
        fingerprint=f"{fingerprint_prefix(block_rows)}:{table.hexdigest()}",
        rows=rows,
        columns=tuple(
            ColumnFingerprint(name, tag.decode(), arrow_type, digest.hex())
            for name, tag, arrow_type, digest in zip(
                columns.names, tags, columns.arrow_types, digests, strict=True
            )
        ),
        block_rows=block_rows,
    )


def default_threads() -> int:
    """The CPUs this process may use (BLAKE3 and NumPy release the GIL, so threads scale)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _column_block(name: str, tag: bytes, rows: int, chunks: list[pa.Array]) -> bytes:
    try:
        return _block_digest(tag, rows, chunks)
    except FingerprintError as exc:
        raise FingerprintError(f"column {name!r}: {exc}") from None
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise FingerprintError(f"column {name!r}: cannot encode: {one_line(exc)}") from exc


def table_fingerprint(
    obj: Any,
    *,
    block_rows: int | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> TableFingerprint:
    """The canonical, format-independent fingerprint of a table.

    ``obj`` may be a pyarrow ``Table`` / ``RecordBatch`` / ``RecordBatchReader``, a pandas or
    Polars ``DataFrame``, a Polars ``LazyFrame``, anything exporting ``__arrow_c_stream__``,
    or the path of a tabular file (.csv .tsv .parquet .pq .arrow .feather .ipc .jsonl .ndjson)
    or of a directory of such files. Files are streamed by batches, never read whole.
    ``block_rows`` changes the block size (and so the value; see ``docs/fingerprint.md``).
    """
    if isinstance(obj, str | os.PathLike):
        from pedigree.fingerprint.readers import path_table_fingerprint

        return path_table_fingerprint(
            Path(obj), block_rows=block_rows, threads=threads, progress=progress
        )
    return fingerprint_parts(
        table_parts(obj), block_rows=block_rows, threads=threads, progress=progress
    )
