"""What a captured object is: a table, a path, or a fitted model, and its version record.

``run.use`` and ``run.produce`` accept whatever a pipeline holds. Tables are identified
by their canonical fingerprint, files by their digest, models by the digest of their
pickled state, so the same content always gets the same version id. A fingerprint is
computed once per object per process (objects are remembered by identity while they
live), so capture never hashes the same table twice.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pedigree.errors import RecordError
from pedigree.fingerprint import FileFingerprint, TableFingerprint

TABLE_TYPES = (
    ("pandas", "DataFrame"),
    ("pandas", "Series"),
    ("polars", "DataFrame"),
    ("polars", "LazyFrame"),
    ("pyarrow", "Table"),
    ("pyarrow", "RecordBatch"),
)


@dataclass(frozen=True, slots=True)
class Content:
    """The identity of one object's content, ready to become a version record."""

    kind: str  # "dataset" or "model"
    version: str
    fingerprint: str | None = None
    rows: int | None = None
    columns: tuple[tuple[str, str], ...] = ()
    files: tuple[tuple[str, FileFingerprint], ...] = ()
    uri: str | None = None
    framework: str | None = None
    model_class: str | None = None
    facets: dict[str, Any] = field(default_factory=dict)


def is_table(obj: Any) -> bool:
    """A pandas, Polars or Arrow table (checked by type name, so nothing gets imported)."""
    for klass in type(obj).__mro__:
        if (klass.__module__.split(".")[0], klass.__name__) in TABLE_TYPES:
            return True
    return False


def is_path(obj: Any) -> bool:
    return isinstance(obj, os.PathLike) or (isinstance(obj, str) and os.path.exists(obj))


def is_model(obj: Any) -> bool:
    """A fitted estimator or generator: has ``fit`` and is not a table, path or scalar."""
    return callable(getattr(obj, "fit", None)) and not isinstance(obj, type)


class ContentCache:
    """Content of objects already fingerprinted, by identity, while they are alive."""

    def __init__(self) -> None:
        self._entries: dict[int, tuple[Any, Content]] = {}

    def get(self, obj: Any) -> Content | None:
        entry = self._entries.get(id(obj))
        if entry is None:
            return None
        ref, content = entry
        return content if ref() is obj else None

    def put(self, obj: Any, content: Content) -> None:
        key = id(obj)
        try:
            ref = weakref.ref(obj, lambda _, key=key: self._entries.pop(key, None))
        except TypeError:  # not weak-referenceable: keep it alive as long as its entry
            ref = _Strong(obj)
        self._entries[key] = (ref, content)


class _Strong:
    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj

    def __call__(self) -> Any:
        return self.obj


_cache = ContentCache()


def content_of(obj: Any) -> Content:
    """The content identity of a table, a path (file or directory) or a fitted model."""
    if isinstance(obj, Content):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        if not os.path.exists(obj):
            raise RecordError(f"{os.fspath(obj)!r} does not exist")
        return path_content(Path(os.fspath(obj)))
    cached = _cache.get(obj)
    if cached is not None:
        return cached
    if is_table(obj):
        content = _table_content(obj)
    elif is_model(obj):
        content = model_content(obj)
    else:
        raise RecordError(
            f"cannot record a {type(obj).__module__}.{type(obj).__qualname__}: pass a "
            "pandas/Polars/Arrow table, a file or directory path, or a fitted model"
        )
    _cache.put(obj, content)
    return content


def _table_content(obj: Any) -> Content:
    from pedigree.fingerprint import table_fingerprint

    if type(obj).__name__ == "Series":
        obj = obj.to_frame()
    return table_content(table_fingerprint(obj))


def table_content(fp: TableFingerprint, **where: Any) -> Content:
    """A table's content identity: its canonical fingerprint is its version."""
    return Content(
        kind="dataset",
        version=fp.fingerprint,
        fingerprint=fp.fingerprint,
        rows=fp.rows,
        columns=tuple((c.name, c.type) for c in fp.columns),
        facets={"column_digests": {c.name: c.digest for c in fp.columns}},
        **where,
    )


RACY_NS = 2_000_000_000
_file_cache: dict[tuple[str, int, int], Content] = {}
"""File content by (path, mtime, size): a file read twice in a process is hashed once."""


def path_content(path: Path) -> Content:
    """A file or directory: its digests, plus the table fingerprint of tabular data."""
    if path.is_file():
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        cached = _file_cache.get(key)
        if cached is None:
            cached = _path_content(path)
            if time.time_ns() - stat.st_mtime_ns > RACY_NS:  # else a same-size rewrite within
                _file_cache[key] = cached  # the clock's granularity could go unseen
        return cached
    return _path_content(path)


def _path_content(path: Path) -> Content:
    from pedigree.fingerprint import fingerprint_path

    fp = fingerprint_path(path)
    files = tuple((f.path, FileFingerprint(f.sha256, f.size)) for f in fp.files)
    uri = path.resolve().as_uri()
    if fp.table is not None:
        return table_content(fp.table, files=files, uri=uri)
    version = f"sha256:{files[0][1].sha256}" if path.is_file() else fp.digest
    kind = "model" if path.suffix.lower() in MODEL_SUFFIXES else "dataset"
    return Content(kind=kind, version=version, files=files, uri=uri)


MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib", ".onnx", ".pt", ".safetensors", ".h5", ".keras")


def model_content(model: Any) -> Content:
    """A fitted model is identified by the SHA-256 of its pickle (its full learned state)."""
    try:
        data = pickle.dumps(model, protocol=5)
    except Exception as exc:
        raise RecordError(f"cannot fingerprint the {type(model).__name__} model: {exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    module = type(model).__module__
    framework = module.split(".")[0]
    version = getattr(sys.modules.get(framework), "__version__", None)
    return Content(
        kind="model",
        version=f"sha256:{digest}",
        fingerprint=f"sha256:{digest}",
        framework=f"{framework} {version}" if version else framework,
        model_class=f"{module}.{type(model).__qualname__}",
        facets={"pickle_bytes": len(data)},
    )


def write(obj: Any, path: Path) -> None:
    """Write a table (by the path's extension) or pickle a model, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    suffix = path.suffix.lower()
    try:
        if is_table(obj):
            _write_table(obj, tmp, suffix)
        elif suffix in (".pkl", ".pickle", ".joblib"):
            with tmp.open("wb") as handle:
                pickle.dump(obj, handle, protocol=5)
        else:
            raise RecordError(
                f"cannot write a {type(obj).__name__} to {path.name}: tables go to .parquet, "
                ".csv, .arrow or .jsonl; models to .pkl"
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_table(obj: Any, path: Path, suffix: str) -> None:
    import pyarrow as pa

    from pedigree.fingerprint import to_arrow

    table = to_arrow(obj)
    if suffix in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        pq.write_table(table, path)
    elif suffix == ".csv":
        import pyarrow.csv as pcsv

        pcsv.write_csv(table, path)
    elif suffix in (".arrow", ".feather", ".ipc"):
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
    elif suffix in (".jsonl", ".ndjson"):
        buffer = io.StringIO()
        table.to_pandas().to_json(buffer, orient="records", lines=True, date_format="iso")
        path.write_text(buffer.getvalue(), encoding="utf-8")
    else:
        raise RecordError(
            f"cannot write a table to {path.name}: use .parquet, .csv, .arrow or .jsonl"
        )
