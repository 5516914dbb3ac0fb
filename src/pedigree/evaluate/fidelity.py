"""Fidelity: how closely the synthetic table reproduces the real one, column by column,
pair by pair, and as a whole.

The definitions are SDMetrics' (KSComplement, TVComplement, RangeCoverage,
CategoryCoverage, MissingValueSimilarity, CorrelationSimilarity, ContingencySimilarity,
the single-table QualityReport and LogisticDetection), so a figure recorded here means what
it means there and agrees with it on the same data. The computation is our own and
vectorised: one sort per column, one ``bincount`` per column pair, no loop over rows. The
formulas, and where (and why) we deviate, are in ``docs/metrics.md``.
"""

from __future__ import annotations

import itertools
import math
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pedigree.errors import EvaluationError
from pedigree.evaluate.result import MetricResult, metric, not_applicable
from pedigree.evaluate.tables import Kind, Tables, column_kind

FAMILY = "fidelity"

Progress = Callable[[str], None]

CONTINUOUS: tuple[Kind, ...] = ("numerical", "datetime")
DISCRETE: tuple[Kind, ...] = ("categorical", "boolean")

MAX_DECIMALS = sys.float_info.dig - 1
"""KSComplement rounds float values to 14 decimals before comparing them (SDMetrics)."""

PAIR_BINS = 10
"""Equal-width bins of a numerical column paired with a categorical one (QualityReport)."""

REAL_CORRELATION_THRESHOLD = 0.5
REAL_ASSOCIATION_THRESHOLD = 0.3
"""QualityReport's defaults: a pair counts towards Column Pair Trends only when the real
data shows a trend, |Pearson ρ| > 0.5 or Cramér's V > 0.3."""

DETECTION_MAX_ROWS = 50_000
"""Rows per side the detection classifier sees at most (a seeded uniform subsample)."""

DETECTION_MAX_CATEGORIES = 1_000
"""One-hot columns per categorical column at most (the most frequent real categories;
the rest share one indicator)."""

DETECTION_FOLDS = 3
GBM_MAX_ROWS = 20_000


# --- columns, prepared once ----------------------------------------------------------------


@dataclass
class _Continuous:
    """A numerical or datetime column as float64 with NaN for nulls (datetimes as integer
    ticks of the real column's unit, as ``pd.to_numeric`` gives SDMetrics)."""

    real: np.ndarray
    synthetic: np.ndarray
    exact_real: np.ndarray  # nulls dropped; int64 ticks for datetimes, KS-rounded floats
    exact_synthetic: np.ndarray
    real_unit: np.ndarray | None = None
    synthetic_unit: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.real_unit, self.synthetic_unit = _unit(self.real), _unit(self.synthetic)


@dataclass
class CategoryCodes:
    """Codes of a categorical/boolean column over the union of both tables' values; a
    null is a value of its own (code ``null_code``, or -1 when neither table has one)."""

    real: np.ndarray
    synthetic: np.ndarray
    size: int
    null_code: int


def _datetime_ticks(real: pd.Series, synthetic: pd.Series) -> tuple[np.ndarray, ...]:
    real_idx, syn_idx = pd.DatetimeIndex(real), pd.DatetimeIndex(synthetic)
    if real_idx.tz is not None:
        real_idx = real_idx.tz_convert(None)
    if syn_idx.tz is not None:
        syn_idx = syn_idx.tz_convert(None)
    syn_idx = syn_idx.as_unit(real_idx.unit)
    return real_idx.asi8, real_idx.isna(), syn_idx.asi8, syn_idx.isna()


def _continuous(tables: Tables, column: str) -> _Continuous:
    real_s, syn_s = tables.real[column], tables.synthetic[column]
    if tables.kinds[column] == "datetime":
        r_int, r_null, s_int, s_null = _datetime_ticks(real_s, syn_s)
        real = np.where(r_null, np.nan, r_int.astype(np.float64))
        syn = np.where(s_null, np.nan, s_int.astype(np.float64))
        return _Continuous(real, syn, np.sort(r_int[~r_null]), np.sort(s_int[~s_null]))
    real = real_s.to_numpy(dtype=np.float64, na_value=np.nan)
    syn = syn_s.to_numpy(dtype=np.float64, na_value=np.nan)
    exact = []
    for series, values in ((real_s, real), (syn_s, syn)):
        kept = values[~np.isnan(values)]
        if pd.api.types.is_float_dtype(series.dtype):
            kept = np.round(kept, MAX_DECIMALS)
        exact.append(np.sort(kept))
    return _Continuous(real, syn, exact[0], exact[1])


def category_codes(tables: Tables, column: str) -> CategoryCodes:
    """Codes of the raw values, so ``1`` and ``"1"`` stay apart as in SDMetrics (and
    ``True`` and ``1`` meet, as Python equality has it); text when ``prepare`` made a
    column of different kinds categorical."""
    real_s, syn_s = tables.real[column], tables.synthetic[column]
    if tables.kinds[column] == "categorical" and column_kind(real_s) != column_kind(syn_s):
        real_s, syn_s = (
            tables.categories(tables.real, column),
            tables.categories(tables.synthetic, column),
        )
    if real_s.dtype == syn_s.dtype:  # factorised in their own dtype: no Python objects
        both = pd.concat([real_s, syn_s], ignore_index=True)
    else:
        both = np.concatenate([real_s.to_numpy(dtype=object), syn_s.to_numpy(dtype=object)])
    codes, uniques = pd.factorize(both)
    codes = codes.astype(np.int64)
    size, null_code = len(uniques), -1
    nulls = codes < 0
    if nulls.any():
        null_code, size = size, size + 1
        codes[nulls] = null_code
    return CategoryCodes(codes[: len(real_s)], codes[len(real_s) :], size, null_code)


# --- per column ----------------------------------------------------------------------------


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov D of two *sorted* samples: the largest gap between
    their empirical CDFs, evaluated at every observed value of either sample."""
    gaps = []
    for points in (a, b):
        cdf_a = np.searchsorted(a, points, side="right") / len(a)
        cdf_b = np.searchsorted(b, points, side="right") / len(b)
        gaps.append(np.max(np.abs(cdf_a - cdf_b)))
    return float(max(gaps))


def _ks_complement(column: str, col: _Continuous) -> MetricResult:
    if len(col.exact_real) == 0 or len(col.exact_synthetic) == 0:
        side = "real" if len(col.exact_real) == 0 else "synthetic"
        return not_applicable(
            FAMILY, "ks_complement", f"the {side} column has no values", columns=[column]
        )
    return metric(
        FAMILY,
        "ks_complement",
        1.0 - ks_statistic(col.exact_real, col.exact_synthetic),
        columns=[column],
        sdmetrics="KSComplement",
    )


def _tv_complement(column: str, col: CategoryCodes) -> MetricResult:
    real = np.bincount(col.real, minlength=col.size).astype(np.float64)
    syn = np.bincount(col.synthetic, minlength=col.size).astype(np.float64)
    if col.null_code >= 0:
        real[col.null_code] = syn[col.null_code] = 0.0
    if real.sum() == 0 or syn.sum() == 0:
        side = "real" if real.sum() == 0 else "synthetic"
        return not_applicable(
            FAMILY, "tv_complement", f"the {side} column has no values", columns=[column]
        )
    # SDMetrics counts a category seen only in the synthetic data 1e-6 times in the real
    # data (so its frequency is defined); reproduced so the figures agree to the last digit.
    real[(real == 0) & (syn > 0)] = 1e-6
    tv = 0.5 * np.abs(syn / syn.sum() - real / real.sum()).sum()
    return metric(FAMILY, "tv_complement", 1.0 - tv, columns=[column], sdmetrics="TVComplement")


def _range_coverage(column: str, col: _Continuous) -> MetricResult:
    real, syn = col.exact_real, col.exact_synthetic
    if len(real) == 0 or len(syn) == 0:
        side = "real" if len(real) == 0 else "synthetic"
        return not_applicable(
            FAMILY, "range_coverage", f"the {side} column has no values", columns=[column]
        )
    lo, hi = real[0], real[-1]
    if lo == hi:
        return not_applicable(
            FAMILY, "range_coverage", "the real column is constant (no range)", columns=[column]
        )
    span = float(hi - lo)
    below = max(float(syn[0] - lo) / span, 0.0)
    above = max(float(hi - syn[-1]) / span, 0.0)
    return metric(
        FAMILY,
        "range_coverage",
        max(1.0 - (below + above), 0.0),
        columns=[column],
        sdmetrics="RangeCoverage",
    )


def _category_coverage(column: str, col: CategoryCodes) -> MetricResult:
    real = np.bincount(col.real, minlength=col.size) > 0
    syn = np.bincount(col.synthetic, minlength=col.size) > 0
    if col.null_code >= 0:
        real[col.null_code] = syn[col.null_code] = False
    if not real.any():
        return not_applicable(
            FAMILY, "category_coverage", "the real column has no values", columns=[column]
        )
    return metric(
        FAMILY,
        "category_coverage",
        (real & syn).sum() / real.sum(),
        columns=[column],
        sdmetrics="CategoryCoverage",
        real_categories=int(real.sum()),
        covered=int((real & syn).sum()),
    )


def _missing_value_similarity(
    column: str, real_nulls: np.ndarray, syn_nulls: np.ndarray
) -> MetricResult:
    real, syn = float(real_nulls.mean()), float(syn_nulls.mean())
    return metric(
        FAMILY,
        "missing_value_similarity",
        1.0 - abs(real - syn),
        columns=[column],
        sdmetrics="MissingValueSimilarity",
        real_null_share=real,
        synthetic_null_share=syn,
    )


# --- per pair ------------------------------------------------------------------------------


def _unit(values: np.ndarray) -> np.ndarray | None:
    """The column centred and scaled to unit length, when it has no null (then Pearson's r
    of two such columns is one dot product); None otherwise or when it has no variation."""
    if np.isnan(values).any():
        return None
    centred = values - values.mean()
    norm = math.sqrt(float((centred * centred).sum()))  # not BLAS: no thread start-up
    return centred / norm if norm > 0 and math.isfinite(norm) else None


def _pearson(x: np.ndarray, y: np.ndarray, ux: np.ndarray | None, uy: np.ndarray | None) -> float:
    """Pearson's r over the rows where both have a value (as ``scipy.stats.pearsonr`` after
    SDMetrics' ``dropna``); NaN when one of them does not vary there."""
    if ux is not None and uy is not None:
        return min(max(float((ux * uy).sum()), -1.0), 1.0)
    keep = ~(np.isnan(x) | np.isnan(y))
    if keep.sum() < 2:
        return math.nan
    ux, uy = _unit(x[keep]), _unit(y[keep])
    if ux is None or uy is None:
        return math.nan
    return min(max(float((ux * uy).sum()), -1.0), 1.0)


def _is_constant(values: np.ndarray) -> bool:
    """Exactly one distinct non-null value (SDMetrics' ``nunique() == 1``)."""
    kept = values[~np.isnan(values)]
    return len(kept) > 0 and bool(np.all(kept == kept[0]))


def _correlation_similarity(
    a: str, b: str, ca: _Continuous, cb: _Continuous, threshold: float
) -> MetricResult:
    name, columns = "correlation_similarity", [a, b]
    for side, va, vb in (("real", ca.real, cb.real), ("synthetic", ca.synthetic, cb.synthetic)):
        for column, values in ((a, va), (b, vb)):
            if np.isnan(values).all():
                return not_applicable(
                    FAMILY,
                    name,
                    f"column {column} has no values in the {side} table",
                    columns=columns,
                )
            if _is_constant(values):
                return not_applicable(
                    FAMILY,
                    name,
                    f"column {column} is constant in the {side} table (correlation undefined)",
                    columns=columns,
                )
    real = _pearson(ca.real, cb.real, ca.real_unit, cb.real_unit)
    syn = _pearson(ca.synthetic, cb.synthetic, ca.synthetic_unit, cb.synthetic_unit)
    if math.isnan(real) or math.isnan(syn):
        side = "real" if math.isnan(real) else "synthetic"
        return not_applicable(
            FAMILY,
            name,
            f"the correlation is undefined in the {side} table (fewer than 2 rows with both "
            "values, or no variation in them)",
            columns=columns,
        )
    return metric(
        FAMILY,
        name,
        1.0 - abs(real - syn) / 2.0,
        columns=columns,
        sdmetrics="CorrelationSimilarity",
        real_correlation=real,
        synthetic_correlation=syn,
        in_column_pair_trends=threshold <= 0 or abs(real) > threshold,
    )


def _bins(values: np.ndarray) -> np.ndarray | str:
    """Bin numbers 1..11 of 10 equal-width bins over this table's own range, as the
    QualityReport discretises a numerical column paired with a categorical one: the
    maximum and the nulls both land in bin 11 (``np.digitize``). A reason instead when
    the range cannot be cut into 10 bins (infinite, or too narrow for float64)."""
    kept = values[~np.isnan(values)]
    if len(kept) and not np.isfinite(kept).all():
        return "has infinite values"
    try:
        edges = np.histogram_bin_edges(kept, bins=PAIR_BINS)
    except ValueError:
        return "has a range too narrow for 10 bins"
    return np.digitize(values, edges).astype(np.int64)


@dataclass
class _Codes:
    """A column as small integer codes in each table, for contingency tables."""

    real: np.ndarray
    synthetic: np.ndarray
    size: int


def _cramers_v(cells: np.ndarray, counts: np.ndarray, width: int, n_rows: int) -> float:
    """Cramér's V (Pearson χ², no continuity correction, as ``scipy.stats.contingency.
    association``) of the real contingency table given by its non-empty ``cells`` (row *
    width + column) and their ``counts``; NaN when it has a single row or column."""
    row_ids, rows = np.unique(cells // width, return_inverse=True)
    col_ids, cols = np.unique(cells % width, return_inverse=True)
    if min(len(row_ids), len(col_ids)) < 2:
        return math.nan
    row_sums = np.bincount(rows, weights=counts)
    col_sums = np.bincount(cols, weights=counts)
    if len(row_ids) * len(col_ids) <= 1_000_000:
        table = np.zeros((len(row_ids), len(col_ids)))
        table[rows, cols] = counts
        expected = np.outer(row_sums, col_sums) / n_rows
        chi2 = float((((table - expected) ** 2) / expected).sum())
    else:  # the same χ², summed over non-empty cells only: Σ O²/E - n
        chi2 = float((counts**2 / (row_sums[rows] * col_sums[cols] / n_rows)).sum() - n_rows)
    return math.sqrt(max(chi2, 0.0) / n_rows / (min(len(row_ids), len(col_ids)) - 1))


def _cell_counts(keys: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct cells of ``keys`` and how often each occurs."""
    if cells <= 4 * len(keys) + 1024:
        counts = np.bincount(keys, minlength=cells)
        present = np.flatnonzero(counts)
        return present, counts[present]
    return np.unique(keys, return_counts=True)


def _contingency_similarity(
    a: str, b: str, ca: _Codes, cb: _Codes, threshold: float, mixed: bool
) -> MetricResult:
    cells = ca.size * cb.size
    real_cells, real_counts = _cell_counts(ca.real * cb.size + cb.real, cells)
    syn_cells, syn_counts = _cell_counts(ca.synthetic * cb.size + cb.synthetic, cells)
    n_real, n_syn = len(ca.real), len(ca.synthetic)
    union = np.union1d(real_cells, syn_cells)
    p = np.zeros(len(union))
    q = np.zeros(len(union))
    p[np.searchsorted(union, real_cells)] = real_counts / n_real
    q[np.searchsorted(union, syn_cells)] = syn_counts / n_syn
    score = 1.0 - 0.5 * np.abs(p - q).sum()
    association = _cramers_v(real_cells, real_counts.astype(np.float64), cb.size, n_real)
    return metric(
        FAMILY,
        "contingency_similarity",
        score,
        columns=[a, b],
        sdmetrics="ContingencySimilarity",
        real_association=None if math.isnan(association) else association,
        in_column_pair_trends=threshold <= 0
        or (not math.isnan(association) and association > threshold),
        discretised=mixed,
    )


# --- detection -----------------------------------------------------------------------------


def _subsample(n: int, cap: int, rng: np.random.Generator) -> np.ndarray | None:
    return None if n <= cap else np.sort(rng.choice(n, size=cap, replace=False))


@dataclass
class _Features:
    """Detection inputs, real rows then synthetic rows: a numeric block (nulls filled with
    the real mean; booleans 0/1, nulls filled with the real mode) and, per categorical
    column, one-hot codes over the real categories (null is a category; -1 = a value the
    real data lacks, which gets no indicator)."""

    numeric: np.ndarray
    onehot: list[tuple[np.ndarray, int]]
    columns: list[str]

    @property
    def width(self) -> int:
        return self.numeric.shape[1] + sum(w for _, w in self.onehot)


def _detection_features(
    tables: Tables,
    real_rows: np.ndarray | None,
    syn_rows: np.ndarray | None,
    continuous: dict[str, _Continuous],
    discrete: dict[str, CategoryCodes],
) -> _Features:
    def pick(values: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
        return values if rows is None else values[rows]

    numeric: list[np.ndarray] = []
    onehot: list[tuple[np.ndarray, int]] = []
    used: list[str] = []
    for column, kind in tables.kinds.items():
        if kind in CONTINUOUS:
            col = continuous[column]
            values = np.concatenate([pick(col.real, real_rows), pick(col.synthetic, syn_rows)])
            finite = col.real[np.isfinite(col.real)]
            if len(finite) == 0:
                continue  # SimpleImputer drops a feature without any value
            numeric.append(np.where(np.isfinite(values), values, finite.mean()))
        elif kind == "boolean":
            real = tables.real[column].to_numpy(dtype=np.float64, na_value=np.nan)
            syn = tables.synthetic[column].to_numpy(dtype=np.float64, na_value=np.nan)
            known = real[~np.isnan(real)]
            if len(known) == 0:
                continue
            mode = float(known.mean() > 0.5)  # the more frequent of 0/1 (0 on a tie)
            values = np.concatenate([pick(real, real_rows), pick(syn, syn_rows)])
            numeric.append(np.where(np.isnan(values), mode, values))
        else:
            dcol = discrete[column]
            counts = np.bincount(dcol.real, minlength=dcol.size)
            present = np.flatnonzero(counts)
            other = -1
            if len(present) > DETECTION_MAX_CATEGORIES:
                order = np.argsort(-counts[present], kind="stable")
                present = present[order[: DETECTION_MAX_CATEGORIES - 1]]
                other = len(present)  # every rarer value, real or synthetic
            remap = np.full(dcol.size, other, dtype=np.int64)
            remap[present] = np.arange(len(present))
            codes = np.concatenate(
                [remap[pick(dcol.real, real_rows)], remap[pick(dcol.synthetic, syn_rows)]]
            )
            onehot.append((codes, len(present) + (other >= 0)))
        used.append(column)
    rows = (len(tables.real) if real_rows is None else len(real_rows)) + (
        len(tables.synthetic) if syn_rows is None else len(syn_rows)
    )
    block = np.column_stack(numeric) if numeric else np.empty((rows, 0))
    return _Features(block, onehot, used)


DENSE_MAX_WIDTH = 512
"""Up to this many features the design matrix is dense (BLAS); wider, sparse."""


def _design(features: _Features, rows: np.ndarray, scaler: object | None) -> object:
    """The ``rows`` of the design matrix: the numeric block scaled by the fold's
    RobustScaler next to the one-hot indicators. The indicators are left unscaled: on a 0/1
    column RobustScaler only subtracts the median (its IQR is 0 or 1, and 0 counts as 1), a
    shift the unpenalised intercept absorbs, so the fitted model predicts the same."""
    from scipy import sparse

    numeric = features.numeric[rows]
    if scaler is not None:
        numeric = scaler.transform(numeric)  # type: ignore[attr-defined]
    if not features.onehot:
        return numeric
    if features.width <= DENSE_MAX_WIDTH:
        blocks = [numeric]
        for codes, width in features.onehot:
            block = np.zeros((len(rows), width))
            picked = codes[rows]
            keep = np.flatnonzero(picked >= 0)
            block[keep, picked[keep]] = 1.0
            blocks.append(block)
        return np.hstack(blocks)
    parts = [sparse.csr_matrix(numeric)]
    for codes, width in features.onehot:
        picked = codes[rows]
        keep = np.flatnonzero(picked >= 0)
        parts.append(
            sparse.csr_matrix((np.ones(len(keep)), (keep, picked[keep])), shape=(len(rows), width))
        )
    return sparse.hstack(parts, format="csr")


def _detection(
    tables: Tables,
    continuous: dict[str, _Continuous],
    discrete: dict[str, CategoryCodes],
    *,
    seed: int,
    max_rows: int,
    gbm: bool,
) -> list[MetricResult]:
    names = ["detection", *(["detection_gbm"] if gbm else [])]
    n_real, n_syn = len(tables.real), len(tables.synthetic)
    if min(n_real, n_syn) < DETECTION_FOLDS:
        reason = f"fewer than {DETECTION_FOLDS} rows in a table: cannot cross-validate"
        return [not_applicable(FAMILY, name, reason) for name in names]
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.preprocessing import RobustScaler
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    real_rows, syn_rows = _subsample(n_real, max_rows, rng), _subsample(n_syn, max_rows, rng)
    features = _detection_features(tables, real_rows, syn_rows, continuous, discrete)
    if not features.columns:
        return [not_applicable(FAMILY, name, "no column with values to train on") for name in names]
    used_real = n_real if real_rows is None else len(real_rows)
    used_syn = n_syn if syn_rows is None else len(syn_rows)
    y = np.concatenate([np.ones(used_real), np.zeros(used_syn)])
    splitter = StratifiedKFold(n_splits=DETECTION_FOLDS, shuffle=True, random_state=seed)
    folds = list(splitter.split(np.zeros(len(y)), y))
    common: dict = {
        "seed": seed,
        "folds": DETECTION_FOLDS,
        "rows_real": used_real,
        "rows_synthetic": used_syn,
        "subsampled": real_rows is not None or syn_rows is not None,
        "max_rows_per_side": max_rows,
        "feature_columns": features.columns,
        "features": features.width,
    }
    aucs, converged = [], True
    # One BLAS/OpenMP thread: on these narrow matrices a second thread costs more in
    # start-up and spinning than it saves (3x slower on a busy 2-core machine).
    with threadpool_limits(1):
        for train, test in folds:
            scaler = (
                RobustScaler().fit(features.numeric[train]) if features.numeric.shape[1] else None
            )
            model = LogisticRegression(solver="lbfgs")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(_design(features, train, scaler), y[train])
            converged &= bool(model.n_iter_[0] < model.max_iter)
            proba = model.predict_proba(_design(features, test, scaler))[:, 1]
            aucs.append(float(roc_auc_score(y[test], proba)))
    results = [
        metric(
            FAMILY,
            "detection",
            1.0 - float(np.mean([max(0.5, auc) * 2.0 - 1.0 for auc in aucs])),
            sdmetrics="LogisticDetection",
            classifier="LogisticRegression(lbfgs)",
            fold_auc=aucs,
            converged=converged,
            **common,
        )
    ]
    if gbm:
        with threadpool_limits(1):
            results.append(_detection_gbm(features, y, seed, common))
    return results


def _detection_gbm(features: _Features, y: np.ndarray, seed: int, common: dict) -> MetricResult:
    """The same score with gradient-boosted trees, which also catch non-linear
    differences a logistic model misses; on at most GBM_MAX_ROWS rows per side."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed + 1)
    keep = np.sort(
        np.concatenate(
            [rng.permutation(np.flatnonzero(y == label))[:GBM_MAX_ROWS] for label in (1.0, 0.0)]
        )
    )
    # Categories as HistGradientBoosting's native categorical features (codes < 255;
    # rarer codes share the last one, a value the real data lacks is "missing").
    cats = [np.where(c[keep] < 0, np.nan, np.minimum(c[keep], 254)) for c, _ in features.onehot]
    X = np.column_stack([features.numeric[keep], *cats])
    is_cat = [False] * features.numeric.shape[1] + [True] * len(cats)
    labels = y[keep]
    splitter = StratifiedKFold(n_splits=DETECTION_FOLDS, shuffle=True, random_state=seed)
    aucs = []
    for train, test in splitter.split(X, labels):
        model = HistGradientBoostingClassifier(
            categorical_features=np.array(is_cat, dtype=bool),
            early_stopping=False,
            random_state=seed,
        )
        model.fit(X[train], labels[train])
        aucs.append(float(roc_auc_score(labels[test], model.predict_proba(X[test])[:, 1])))
    details = {
        **common,
        "rows_real": int((labels == 1).sum()),
        "rows_synthetic": int((labels == 0).sum()),
        "subsampled": bool(len(keep) < len(y)) or common["subsampled"],
        "max_rows_per_side": min(GBM_MAX_ROWS, common["max_rows_per_side"]),
    }
    return metric(
        FAMILY,
        "detection_gbm",
        1.0 - float(np.mean([max(0.5, auc) * 2.0 - 1.0 for auc in aucs])),
        classifier="HistGradientBoostingClassifier",
        fold_auc=aucs,
        **details,
    )


# --- the whole family ----------------------------------------------------------------------


def _mean(results: list[MetricResult]) -> float | None:
    values = [r.value for r in results if r.value is not None]
    return float(np.mean(values)) if values else None


def fidelity(
    tables: Tables,
    *,
    progress: Progress | None = None,
    seed: int = 0,
    detection: bool = True,
    detection_gbm: bool = False,
    detection_max_rows: int = DETECTION_MAX_ROWS,
    real_correlation_threshold: float = REAL_CORRELATION_THRESHOLD,
    real_association_threshold: float = REAL_ASSOCIATION_THRESHOLD,
) -> list[MetricResult]:
    """Every fidelity metric of the synthetic table against the real one.

    Per column, per column pair, then ``column_shapes``, ``column_pair_trends`` and
    ``quality_score`` (SDMetrics QualityReport's two properties and overall score) and the
    ``detection`` score. Higher is better for all; a metric that cannot be computed on this
    data is returned not-applicable with the reason.
    """

    if detection_max_rows < DETECTION_FOLDS:
        raise EvaluationError(f"detection needs at least {DETECTION_FOLDS} rows per side")
    for name, value in (
        ("real_correlation_threshold", real_correlation_threshold),
        ("real_association_threshold", real_association_threshold),
    ):
        if not 0 <= value <= 1:
            raise EvaluationError(f"{name} must be between 0 and 1, not {value}")

    def say(text: str) -> None:
        if progress is not None:
            progress(text)

    results: list[MetricResult] = []
    continuous = {c: _continuous(tables, c) for c in tables.columns(*CONTINUOUS)}
    discrete = {c: category_codes(tables, c) for c in tables.columns(*DISCRETE)}

    say(f"fidelity: column shapes ({len(tables.kinds)} columns)")
    shapes: list[MetricResult] = []
    for column, kind in tables.kinds.items():
        if kind in CONTINUOUS:
            col = continuous[column]
            shapes.append(_ks_complement(column, col))
            results += [shapes[-1], _range_coverage(column, col)]
            nulls = np.isnan(col.real), np.isnan(col.synthetic)
        else:
            dcol = discrete[column]
            shapes.append(_tv_complement(column, dcol))
            results += [shapes[-1], _category_coverage(column, dcol)]
            nulls = dcol.real == dcol.null_code, dcol.synthetic == dcol.null_code
        results.append(_missing_value_similarity(column, *nulls))

    pairs = list(itertools.combinations(tables.kinds, 2))
    say(f"fidelity: column pair trends ({len(pairs)} pairs)")
    codes: dict[str, _Codes | str] = {}
    for column, col in discrete.items():
        codes[column] = _Codes(col.real, col.synthetic, col.size)
    pair_results: list[MetricResult] = []
    for a, b in pairs:
        ka, kb = tables.kinds[a], tables.kinds[b]
        if ka in CONTINUOUS and kb in CONTINUOUS:
            pair_results.append(
                _correlation_similarity(
                    a, b, continuous[a], continuous[b], real_correlation_threshold
                )
            )
            continue
        for column in (a, b):
            if column not in codes:  # a continuous column, binned on first use
                col = continuous[column]
                real, syn = _bins(col.real), _bins(col.synthetic)
                if isinstance(real, str) or isinstance(syn, str):
                    side = "real" if isinstance(real, str) else "synthetic"
                    codes[column] = (
                        f"column {column} {real if side == 'real' else syn} in the {side} table: it cannot be binned"
                    )
                else:
                    codes[column] = _Codes(real, syn, PAIR_BINS + 2)
        ca, cb = codes[a], codes[b]
        if isinstance(ca, str) or isinstance(cb, str):
            reason = ca if isinstance(ca, str) else cb
            pair_results.append(
                not_applicable(FAMILY, "contingency_similarity", str(reason), columns=[a, b])
            )
            continue
        pair_results.append(
            _contingency_similarity(
                a,
                b,
                ca,
                cb,
                real_association_threshold,
                mixed=(ka in CONTINUOUS) != (kb in CONTINUOUS),
            )
        )
    results += pair_results

    shape_score = _mean(shapes)
    trending = [r for r in pair_results if r.details.get("in_column_pair_trends")]
    trend_score = _mean(trending)
    if shape_score is None:
        results.append(
            not_applicable(FAMILY, "column_shapes", "no column has values on both sides")
        )
    else:
        results.append(
            metric(
                FAMILY,
                "column_shapes",
                shape_score,
                sdmetrics="QualityReport Column Shapes",
                columns_scored=sum(r.value is not None for r in shapes),
            )
        )
    if trend_score is None:
        reason = "no column pair" if not pairs else "no column pair shows a trend in the real data"
        results.append(
            not_applicable(
                FAMILY,
                "column_pair_trends",
                f"{reason} (|Pearson ρ| > {real_correlation_threshold} or Cramér's V > "
                f"{real_association_threshold})",
            )
        )
    else:
        results.append(
            metric(
                FAMILY,
                "column_pair_trends",
                trend_score,
                sdmetrics="QualityReport Column Pair Trends",
                pairs_scored=len(trending),
                pairs=len(pairs),
                real_correlation_threshold=real_correlation_threshold,
                real_association_threshold=real_association_threshold,
            )
        )
    parts = [s for s in (shape_score, trend_score) if s is not None]
    if parts:
        results.append(
            metric(
                FAMILY,
                "quality_score",
                float(np.mean(parts)),
                sdmetrics="QualityReport.get_score()",
                properties=len(parts),
            )
        )
    else:
        results.append(not_applicable(FAMILY, "quality_score", "no property could be scored"))

    if detection:
        say("fidelity: detection (logistic regression, 3-fold)")
        results += _detection(
            tables,
            continuous,
            discrete,
            seed=seed,
            max_rows=detection_max_rows,
            gbm=detection_gbm,
        )
    return results
