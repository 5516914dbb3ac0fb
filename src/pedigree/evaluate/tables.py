"""The tables an evaluation compares, loaded and typed the same way for every metric.

Every metric family sees pandas DataFrames whose shared columns have one *kind* each:
``numerical`` (integers and floats), ``datetime``, ``boolean`` or ``categorical``
(strings, categories, mixed objects), decided on the real table as SDMetrics does from
its metadata. Mismatched schemas are a clear error naming the columns; a column whose
kind differs between the tables is treated as categorical (text) so it is still compared.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pedigree.errors import EvaluationError

Kind = Literal["numerical", "datetime", "boolean", "categorical"]

NULL_CATEGORY = "<null>"

TABLE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".arrow": "arrow",
    ".feather": "arrow",
    ".ipc": "arrow",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


def load_table(obj: Any, *, what: str = "table") -> pd.DataFrame:
    """A pandas DataFrame from a DataFrame, Polars/Arrow table, or a tabular file or
    directory of Parquet files."""
    if isinstance(obj, pd.DataFrame):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        return _read_path(Path(obj), what)
    module = type(obj).__module__.split(".")[0]
    if module == "polars":
        return (obj.collect() if type(obj).__name__ == "LazyFrame" else obj).to_pandas()
    if module == "pyarrow":
        return obj.to_pandas()
    if isinstance(obj, pd.Series):
        return obj.to_frame()
    raise EvaluationError(f"the {what} must be a table or a file, not a {type(obj).__name__}")


def _read_path(path: Path, what: str) -> pd.DataFrame:
    if not path.exists():
        raise EvaluationError(f"the {what} {path} does not exist")
    if path.is_dir():
        try:
            return pd.read_parquet(path)
        except Exception as exc:
            raise EvaluationError(f"cannot read the {what} directory {path}: {exc}") from None
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise EvaluationError(
            f"cannot read the {what} {path.name}: use CSV, TSV, Parquet, Arrow or JSON Lines"
        )
    try:
        if fmt in ("csv", "tsv"):
            return pd.read_csv(path, sep="\t" if fmt == "tsv" else ",")
        if fmt == "parquet":
            return pd.read_parquet(path)
        if fmt == "arrow":
            return pd.read_feather(path)
        return pd.read_json(path, lines=True)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise EvaluationError(f"cannot read the {what} {path}: {first}") from None


def column_kind(series: pd.Series) -> Kind:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_numeric_dtype(series):
        return "numerical"
    return "categorical"


@dataclass
class Tables:
    """Real and synthetic (and optionally a real hold-out) restricted to shared columns."""

    real: pd.DataFrame
    synthetic: pd.DataFrame
    holdout: pd.DataFrame | None
    kinds: dict[str, Kind]
    notes: list[str] = field(default_factory=list)

    def columns(self, *kinds: Kind) -> list[str]:
        return [c for c, k in self.kinds.items() if not kinds or k in kinds]

    def numeric(self, frame: pd.DataFrame, column: str) -> np.ndarray:
        """Values of a numerical/datetime/boolean column as float64 (datetimes in seconds),
        nulls dropped."""
        values = frame[column].dropna()
        if self.kinds[column] == "datetime":
            if getattr(values.dt, "tz", None) is not None:
                values = values.dt.tz_convert("UTC").dt.tz_localize(None)
            return values.dt.as_unit("ns").astype("int64").to_numpy(dtype=np.float64) / 1e9
        return values.to_numpy(dtype=np.float64)

    def categories(self, frame: pd.DataFrame, column: str) -> pd.Series:
        """Values of a column as text categories; nulls are kept as ``NULL_CATEGORY`` (a
        generator that never produces missing values should be seen to)."""
        values = frame[column]
        return values.astype("string").fillna(NULL_CATEGORY).astype(object)


def prepare(
    real: Any,
    synthetic: Any,
    holdout: Any = None,
    *,
    allow_extra_columns: bool = False,
) -> Tables:
    """Load, check and type the tables: same columns (an error names any difference,
    unless ``allow_extra_columns``), not empty, one kind per column."""
    real_df = load_table(real, what="real table")
    syn_df = load_table(synthetic, what="synthetic table")
    hold_df = None if holdout is None else load_table(holdout, what="hold-out table")
    for frame, what in ((real_df, "real"), (syn_df, "synthetic"), (hold_df, "hold-out")):
        if frame is not None and len(frame) == 0:
            raise EvaluationError(f"the {what} table is empty")
        if frame is not None and len(frame.columns) == 0:
            raise EvaluationError(f"the {what} table has no columns")
    notes: list[str] = []
    only_real = [c for c in real_df.columns if c not in syn_df.columns]
    only_syn = [c for c in syn_df.columns if c not in real_df.columns]
    if (only_real or only_syn) and not allow_extra_columns:
        parts = []
        if only_real:
            parts.append(f"only in the real table: {', '.join(map(str, only_real))}")
        if only_syn:
            parts.append(f"only in the synthetic table: {', '.join(map(str, only_syn))}")
        raise EvaluationError(
            "the real and synthetic tables have different columns (" + "; ".join(parts) + ")"
        )
    shared = [c for c in real_df.columns if c in syn_df.columns]
    if not shared:
        raise EvaluationError("the real and synthetic tables share no column")
    if only_real or only_syn:
        notes.append(f"compared the {len(shared)} shared columns only")
    if hold_df is not None:
        missing = [c for c in shared if c not in hold_df.columns]
        if missing:
            raise EvaluationError(
                f"the hold-out table lacks columns: {', '.join(map(str, missing))}"
            )
        hold_df = hold_df[shared]
    real_df, syn_df = real_df[shared], syn_df[shared]
    kinds: dict[str, Kind] = {}
    for column in shared:
        kind, other = column_kind(real_df[column]), column_kind(syn_df[column])
        if kind != other and {kind, other} != {"numerical", "boolean"}:
            notes.append(
                f"column {column} is {kind} in the real table, {other} in the synthetic: compared as text"
            )
            kind = "categorical"
        kinds[str(column)] = kind
    return Tables(real_df, syn_df, hold_df, kinds, notes)
