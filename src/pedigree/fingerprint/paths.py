"""Fingerprints of paths: a file's SHA-256 and size, a directory's manifest, and the canonical
table fingerprint whenever the content is a table.

The directory manifest is a text anyone can rebuild with standard tools: one line per regular
file, sorted by relative path, ``<sha256 hex> <size> <relative/posix/path>\\n``; its digest is
the SHA-256 of that text (UTF-8). See ``docs/fingerprint.md``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pedigree.errors import FingerprintError
from pedigree.fingerprint.files import CHUNK, FileFingerprint
from pedigree.fingerprint.readers import (
    data_files,
    list_files,
    path_table_fingerprint,
    tabular_format,
)
from pedigree.fingerprint.table import TableFingerprint
from pedigree.model import FileDigest

PathProgress = Callable[[int, int], None]
"""Called with (work done, total work); units are bytes read (both passes counted)."""


@dataclass(frozen=True, slots=True)
class PathFingerprint:
    """What ``pedigree fingerprint`` reports for one path.

    ``sha256`` and ``size``: the file's bytes, or for a directory the SHA-256 of its manifest
    and the total size of its files. ``files``: every file's digest (a file lists itself). ``table``: the canonical table
    fingerprint when the file (or every visible file of the directory) is tabular.
    """

    path: str
    kind: Literal["file", "directory"]
    sha256: str
    size: int
    format: str | None = None
    table: TableFingerprint | None = None
    files: tuple[FileDigest, ...] = field(default=())

    @property
    def digest(self) -> str:
        """A version id from the bytes alone: ``sha256:<hex>`` for a file,
        ``sha256-manifest:<hex>`` for a directory."""
        return f"sha256:{self.sha256}" if self.kind == "file" else f"sha256-manifest:{self.sha256}"

    @property
    def fingerprint(self) -> str | None:
        return None if self.table is None else self.table.fingerprint

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "format": self.format,
            "fingerprint": self.fingerprint,
            "sha256": self.sha256,
            "size": self.size,
        }
        if self.table is not None:
            data |= {
                "rows": self.table.rows,
                "block_rows": self.table.block_rows,
                "columns": [c.to_json() for c in self.table.columns],
            }
        if self.kind == "directory":
            data["files"] = [f.model_dump(mode="json") for f in self.files]
        return data


def manifest_text(files: list[FileDigest]) -> bytes:
    """The directory manifest: ``<sha256> <size> <path>\\n`` per file, sorted by path."""
    lines = []
    for entry in sorted(files, key=lambda f: f.path):
        if "\n" in entry.path or "\r" in entry.path:
            raise FingerprintError(f"a file name contains a line break: {entry.path!r}")
        lines.append(f"{entry.sha256} {entry.size} {entry.path}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")


def _sha256(path: Path, advance: Callable[[int], None]) -> FileFingerprint:
    digest = hashlib.sha256()
    size = 0
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK * 8):
                digest.update(chunk)
                size += len(chunk)
                advance(len(chunk))
    except OSError as exc:
        raise FingerprintError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return FileFingerprint(digest.hexdigest(), size)


def fingerprint_path(
    path: str | os.PathLike[str],
    *,
    block_rows: int | None = None,
    threads: int | None = None,
    progress: PathProgress | None = None,
) -> PathFingerprint:
    """SHA-256 and size of a file (or the manifest of a directory), plus the canonical table
    fingerprint when the content is tabular (by extension: .csv .tsv .parquet .pq .arrow
    .feather .ipc .jsonl .ndjson). A tabular file that cannot be read as its format is an
    error; a non-tabular file only gets its digest."""
    path = Path(path)
    if not path.exists():
        raise FingerprintError(f"{path}: no such file or directory")
    if path.is_dir():
        fmt, visible = data_files(path)
        files = list_files(path)
    elif path.is_file():
        fmt = tabular_format(path)
        files = visible = [(path.name, path)]
    else:
        raise FingerprintError(f"{path}: not a regular file or directory")
    if not os.access(path, os.R_OK):
        raise FingerprintError(f"{path}: permission denied")
    sizes = {p: p.stat().st_size for _, p in files}
    table_bytes = sum(sizes[p] for _, p in visible) if fmt else 0
    total = sum(sizes.values()) + table_bytes
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    digests = [FileDigest(path=rel, **_file_digest(p, advance)) for rel, p in files]
    table = None
    if fmt is not None:
        table = _table_pass(path, fmt, table_bytes, advance, block_rows, threads)
    if path.is_dir():
        manifest = hashlib.sha256(manifest_text(digests)).hexdigest()
        return PathFingerprint(
            str(path),
            "directory",
            manifest,
            sum(d.size for d in digests),
            fmt,
            table,
            tuple(digests),
        )
    only = digests[0]
    return PathFingerprint(str(path), "file", only.sha256, only.size, fmt, table, (only,))


def _table_pass(
    path: Path,
    fmt: str,
    table_bytes: int,
    advance: Callable[[int], None],
    block_rows: int | None,
    threads: int | None,
) -> TableFingerprint:
    """The table fingerprint, reporting progress in bytes (by rows where the row count is
    cheap to know up front, else once at the end)."""
    rows_total = _known_rows(path, fmt)
    reported = 0

    def rows_progress(rows: int) -> None:
        nonlocal reported
        if rows_total:
            now = table_bytes * min(rows, rows_total) // rows_total
            advance(now - reported)
            reported = now

    table = path_table_fingerprint(
        path, block_rows=block_rows, threads=threads, progress=rows_progress
    )
    advance(table_bytes - reported)
    return table


def table_of_path(
    path: str | os.PathLike[str],
    *,
    block_rows: int | None = None,
    threads: int | None = None,
    progress: PathProgress | None = None,
) -> TableFingerprint:
    """Only the table fingerprint of a file or directory (no SHA-256 pass), with progress in
    bytes like :func:`fingerprint_path`. A path that is not a table is an error."""
    path = Path(path)
    fmt = None
    if path.is_dir():
        fmt = data_files(path)[0]
    elif path.is_file():
        fmt = tabular_format(path)
    if fmt is None:  # let the reader explain what is wrong with it
        return path_table_fingerprint(path, block_rows=block_rows, threads=threads)
    files = [path] if path.is_file() else [p for _, p in data_files(path)[1]]
    total = sum(p.stat().st_size for p in files)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(min(done, total), total)

    return _table_pass(path, fmt, total, advance, block_rows, threads)


def _file_digest(path: Path, advance: Callable[[int], None]) -> dict[str, Any]:
    fp = _sha256(path, advance)
    return {"sha256": fp.sha256, "size": fp.size}


def _known_rows(path: Path, fmt: str) -> int | None:
    """Row count from file metadata when it is cheap (Parquet footers), for the progress bar."""
    if fmt != "parquet":
        return None
    import pyarrow.parquet as pq

    files = [path] if path.is_file() else [p for _, p in data_files(path)[1]]
    try:
        return sum(pq.ParquetFile(p).metadata.num_rows for p in files)
    except Exception:  # the table pass reports unreadable files properly
        return None
