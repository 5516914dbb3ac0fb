"""Tabular files as streams of Arrow record batches (bounded memory, never a whole file).

Formats are recognised by extension. CSV and JSON Lines are typed the way pyarrow infers them
from the whole file: the streaming readers infer from the first block only, so when a later
block does not fit (a column of integers that turns into floats further down), the file is
read again with whole-file inference (only below :data:`FULL_READ_LIMIT` bytes).
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from pedigree.errors import FingerprintError
from pedigree.fingerprint.table import (
    Progress,
    TableFingerprint,
    TablePart,
    fingerprint_parts,
    one_line,
)

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "ipc",
    ".feather": "ipc",
    ".ipc": "ipc",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
"""Extension -> tabular format."""

TEXT_FORMATS = ("csv", "tsv", "jsonl")
COMPRESSIONS = (".gz", ".bz2", ".zst")
"""Text formats may also be compressed (``data.csv.gz``); pyarrow decompresses by extension."""

STREAM_BLOCK_BYTES = 4 << 20
"""Bytes per block of the streaming CSV / JSON readers (and of their first-block inference)."""

FULL_READ_LIMIT = 2 << 30
"""Largest text file re-read whole when its types change after the first block."""

PARQUET_BATCH_ROWS = 1 << 19
"""Batch size of streamed Parquet row groups: the block size, so batches line up with blocks."""

READERS = 2
"""Parquet row groups decoded at the same time (each on one thread)."""

ROW_GROUP_BYTES = 512 << 20
"""Row groups up to this size (uncompressed) are read whole, :data:`READERS` at a time;
a file with a larger one is streamed batch by batch instead, to keep memory bounded."""

CSV_CONVERT = pa_csv.ConvertOptions(strings_can_be_null=True, quoted_strings_can_be_null=False)
"""An unquoted empty field is a null in every column (as pandas reads it, and as pyarrow and
Polars write nulls); a quoted empty field ``""`` is an empty string."""


def tabular_format(path: str | os.PathLike[str]) -> str | None:
    """``csv``, ``tsv``, ``parquet``, ``ipc``, ``jsonl``, or None for any other file name."""
    name = Path(path).name.lower()
    for compression in COMPRESSIONS:
        if name.endswith(compression):
            fmt = FORMATS.get(Path(name[: -len(compression)]).suffix)
            return fmt if fmt in TEXT_FORMATS else None
    return FORMATS.get(Path(name).suffix)


def is_hidden(relative: Path) -> bool:
    """Hidden or bookkeeping files of data directories (``.crc``, ``_SUCCESS``, ``_metadata``)."""
    return any(part.startswith((".", "_")) for part in relative.parts)


def list_files(root: Path) -> list[tuple[str, Path]]:
    """Every regular file under ``root`` as (relative POSIX path, path), in code-point order."""
    files = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_raise):
        dirnames.sort()
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_file():
                files.append((path.relative_to(root).as_posix(), path))
    files.sort(key=lambda item: item[0])
    return files


def _raise(exc: OSError) -> None:
    raise FingerprintError(f"cannot read {exc.filename}: {exc.strerror}")


def data_files(root: Path) -> tuple[str | None, list[tuple[str, Path]]]:
    """The data files of a directory and their common format, or (None, …) when the visible
    files are not all of one tabular format."""
    visible = [(rel, p) for rel, p in list_files(root) if not is_hidden(Path(rel))]
    formats = {tabular_format(p) for _, p in visible}
    if len(formats) != 1 or None in formats:
        return None, visible
    return formats.pop(), visible


def path_parts(path: Path, read_whole: frozenset[Path] = frozenset()) -> Iterator[TablePart]:
    """A file, or a directory of partitions (sorted by relative path), as table parts (files
    are opened lazily, as the iterator reaches them); an error at once if it is no table.

    ``read_whole``: text files to read with whole-file type inference (see ``TypesChanged``).
    """
    if not path.exists():
        raise FingerprintError(f"{path}: no such file or directory")
    if path.is_dir():
        fmt, files = data_files(path)
        if not files:
            raise FingerprintError(f"{path}: not a table: the directory holds no data files")
        if fmt is None:
            kinds = sorted({Path(rel).suffix or rel for rel, _ in files})
            raise FingerprintError(
                f"{path}: not a table: its files are not all of one tabular format "
                f"({', '.join(kinds)})"
            )
        return (
            file_part(p, fmt, label=f"{path}/{rel}", read_whole=p in read_whole) for rel, p in files
        )
    fmt = tabular_format(path)
    if fmt is None:
        raise FingerprintError(
            f"{path}: not a tabular file (supported: {' '.join(FORMATS)}, and .gz .bz2 .zst "
            "of the text formats)"
        )
    return iter([file_part(path, fmt, read_whole=path in read_whole)])


def path_table_fingerprint(
    path: Path,
    *,
    block_rows: int | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> TableFingerprint:
    """The table fingerprint of a file or directory, restarting with whole-file inference for
    any text file whose types change after its first block."""
    read_whole: frozenset[Path] = frozenset()
    while True:
        try:
            return fingerprint_parts(
                path_parts(path, read_whole),
                block_rows=block_rows,
                threads=threads,
                progress=progress,
            )
        except TypesChanged as changed:
            read_whole |= {changed.path}


def file_part(
    path: Path, fmt: str, *, label: str | None = None, read_whole: bool = False
) -> TablePart:
    """Open one file: its schema now, its batches lazily (errors become one-line messages)."""
    label = label or str(path)
    try:
        schema, batches = _OPENERS[fmt](path, read_whole)
    except FingerprintError:
        raise
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise FingerprintError(f"{label}: cannot read as {fmt}: {one_line(exc)}") from exc
    return TablePart(schema, _guarded(batches, label, fmt), label)


def _guarded(batches: Iterator[pa.RecordBatch], label: str, fmt: str) -> Iterator[pa.RecordBatch]:
    try:
        yield from batches
    except (FingerprintError, TypesChanged):
        raise
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise FingerprintError(f"{label}: cannot read as {fmt}: {one_line(exc)}") from exc


def _parquet(path: Path) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Row groups decoded two at a time on worker threads (decoding, not hashing, is what
    bounds a Parquet fingerprint), or batch by batch when a row group is too large to hold."""
    handle = pq.ParquetFile(path, memory_map=True)
    meta = handle.metadata
    groups = meta.num_row_groups
    small = all(meta.row_group(i).total_byte_size <= ROW_GROUP_BYTES for i in range(groups))
    if groups < 2 or not small:

        def batches() -> Iterator[pa.RecordBatch]:
            with handle:
                yield from handle.iter_batches(batch_size=PARQUET_BATCH_ROWS, use_threads=True)

        return handle.schema_arrow, batches()
    handle.close()
    local = threading.local()

    def read_group(i: int) -> pa.Table:
        reader = getattr(local, "reader", None)
        if reader is None:
            reader = local.reader = pq.ParquetFile(path, memory_map=True)
        return reader.read_row_group(i, use_threads=False)

    def groups_in_order() -> Iterator[pa.RecordBatch]:
        with ThreadPoolExecutor(READERS, thread_name_prefix="pedigree-parquet") as pool:
            pending = deque(pool.submit(read_group, i) for i in range(min(READERS, groups)))
            following = len(pending)
            try:
                while pending:
                    table = pending.popleft().result()
                    if following < groups:
                        pending.append(pool.submit(read_group, following))
                        following += 1
                    yield from table.to_batches()
            finally:
                for future in pending:
                    future.cancel()

    return handle.schema_arrow, groups_in_order()


def _ipc(path: Path) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    source = pa.memory_map(str(path))
    magic = source.read(6)
    source.seek(0)
    if magic == b"ARROW1":
        reader = pa.ipc.open_file(source)

        def file_batches() -> Iterator[pa.RecordBatch]:
            for i in range(reader.num_record_batches):
                yield reader.get_batch(i)

        return reader.schema, file_batches()
    if magic[:4] == b"FEA1":
        raise FingerprintError(f"{path}: Feather version 1 files are not supported (rewrite as V2)")
    stream = pa.ipc.open_stream(source)
    return stream.schema, iter(stream)


class TypesChanged(Exception):
    """A streamed text file has a block that does not fit the types of its first block."""

    def __init__(self, path: Path) -> None:
        super().__init__(str(path))
        self.path = path


def _text(
    path: Path,
    stream: Callable[[Path], pa.RecordBatchReader],
    whole: Callable[[Path], pa.Table],
    read_whole: bool,
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """Stream a text file; when a later block does not fit the first block's types, raise
    :class:`TypesChanged` so the caller starts again reading this file whole (types then
    come from whole-file inference and never depend on where blocks fall)."""
    if read_whole:
        if path.stat().st_size > FULL_READ_LIMIT:
            raise FingerprintError(
                f"{path}: column types change after the first {STREAM_BLOCK_BYTES >> 20} MiB "
                "and the file is too large to read whole; convert it to Parquet first"
            )
        table = whole(path)
        return table.schema, iter(table.to_batches())
    reader = stream(path)

    def batches() -> Iterator[pa.RecordBatch]:
        first = True
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid:
                if first:
                    raise
                raise TypesChanged(path) from None
            first = False
            yield batch

    return reader.schema, batches()


def _csv_stream(delimiter: str) -> Callable[[Path], pa.RecordBatchReader]:
    def open_(path: Path) -> pa.RecordBatchReader:
        return pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=STREAM_BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=CSV_CONVERT,
        )

    return open_


def _csv_whole(delimiter: str) -> Callable[[Path], pa.Table]:
    def read(path: Path) -> pa.Table:
        return pa_csv.read_csv(
            path,
            parse_options=pa_csv.ParseOptions(delimiter=delimiter),
            convert_options=CSV_CONVERT,
        )

    return read


def _json_stream(path: Path) -> pa.RecordBatchReader:
    return pa_json.open_json(path, read_options=pa_json.ReadOptions(block_size=STREAM_BLOCK_BYTES))


def _json_whole(path: Path) -> pa.Table:
    return pa_json.read_json(path)


_OPENERS: dict[str, Callable[[Path, bool], tuple[pa.Schema, Iterator[pa.RecordBatch]]]] = {
    "parquet": lambda p, _: _parquet(p),
    "ipc": lambda p, _: _ipc(p),
    "csv": lambda p, w: _text(p, _csv_stream(","), _csv_whole(","), w),
    "tsv": lambda p, w: _text(p, _csv_stream("\t"), _csv_whole("\t"), w),
    "jsonl": lambda p, w: _text(p, _json_stream, _json_whole, w),
}
