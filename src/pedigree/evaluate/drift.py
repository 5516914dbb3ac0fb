"""Drift: how far a dataset's current version has moved from a baseline version.

Three standard figures per column, all 0 for identical distributions and growing with the
shift (lower is better): the population stability index over the baseline's quantile bins
(or the categories), the Jensen-Shannon distance over the same bins, and for numerical
columns the Wasserstein (earth mover's) distance, raw and divided by the baseline's spread
so one threshold can serve every column. Formulas and edge cases: ``docs/metrics.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pedigree.errors import EvaluationError
from pedigree.evaluate.fidelity import category_codes
from pedigree.evaluate.result import MetricResult, metric, not_applicable
from pedigree.evaluate.tables import Tables, prepare

FAMILY = "drift"

PSI_EPSILON = 1e-4
"""Share given to an empty bin before taking logarithms (PSI is infinite otherwise): a bin
empty on one side and holding 1 % on the other then contributes about 0.046."""

Progress = Callable[[str], None]


def _shares(codes: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(codes, minlength=size) / len(codes)


def psi(baseline: np.ndarray, current: np.ndarray, epsilon: float = PSI_EPSILON) -> float:
    """Population stability index of two share vectors over the same bins:
    Σ (c - b) · ln(c / b), with empty bins raised to ``epsilon``."""
    b = np.maximum(baseline, epsilon)
    c = np.maximum(current, epsilon)
    return float(np.sum((c - b) * np.log(c / b)))


def js_distance(baseline: np.ndarray, current: np.ndarray) -> float:
    """Jensen-Shannon distance in base 2 (0 = same shares, 1 = disjoint)."""
    from scipy.spatial.distance import jensenshannon

    return float(jensenshannon(baseline, current, base=2))


def quantile_bins(
    baseline: np.ndarray, current: np.ndarray, bins: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin numbers of both samples over the baseline's ``bins`` quantile bins (right-closed;
    the outer bins open-ended so every current value has one; tied quantiles merge bins)."""
    finite = baseline[np.isfinite(baseline)]
    cuts = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    return (
        np.searchsorted(cuts, baseline, side="left"),
        np.searchsorted(cuts, current, side="left"),
        len(cuts) + 1,
    )


def _distribution_drift(
    column: str,
    base_codes: np.ndarray,
    cur_codes: np.ndarray,
    size: int,
    **details: Any,
) -> list[MetricResult]:
    p, q = _shares(base_codes, size), _shares(cur_codes, size)
    return [
        metric(
            FAMILY,
            "psi",
            psi(p, q),
            columns=[column],
            higher_is_better=False,
            bins=size,
            epsilon=PSI_EPSILON,
            **details,
        ),
        metric(
            FAMILY,
            "jensen_shannon",
            js_distance(p, q),
            columns=[column],
            higher_is_better=False,
            bins=size,
            base=2,
            **details,
        ),
    ]


def _numerical(tables: Tables, column: str, bins: int) -> list[MetricResult]:
    names = ("psi", "jensen_shannon", "wasserstein", "wasserstein_normalized")
    base_all = tables.real[column].isna().to_numpy()
    cur_all = tables.synthetic[column].isna().to_numpy()
    base, cur = tables.numeric(tables.real, column), tables.numeric(tables.synthetic, column)
    finite = base[np.isfinite(base)]
    if len(finite) == 0:
        reason = "the baseline column has no (finite) values"
        return [not_applicable(FAMILY, n, reason, columns=[column]) for n in names]
    base_codes, cur_codes, size = quantile_bins(base, cur, bins)
    nulls = bool(base_all.any() or cur_all.any())
    if nulls:  # nulls are a bin of their own: a change in the null share is drift too
        base_codes = np.concatenate([base_codes, np.full(int(base_all.sum()), size)])
        cur_codes = np.concatenate([cur_codes, np.full(int(cur_all.sum()), size)])
    null_shares = {
        "baseline_null_share": float(base_all.mean()),
        "current_null_share": float(cur_all.mean()),
    }
    results = _distribution_drift(
        column,
        base_codes,
        cur_codes,
        size + int(nulls),
        binning=f"{bins} quantile bins of the baseline" + (" + a null bin" if nulls else ""),
        **null_shares,
    )
    unit = "seconds" if tables.kinds[column] == "datetime" else "column units"
    if len(cur) == 0:
        reason = "the current column has no values"
        return results + [not_applicable(FAMILY, n, reason, columns=[column]) for n in names[2:]]
    if not (np.isfinite(base).all() and np.isfinite(cur).all()):
        reason = "the column has infinite values (the distance is not finite)"
        return results + [not_applicable(FAMILY, n, reason, columns=[column]) for n in names[2:]]
    from scipy.stats import wasserstein_distance

    distance = float(wasserstein_distance(base, cur))
    results.append(
        metric(
            FAMILY,
            "wasserstein",
            distance,
            columns=[column],
            higher_is_better=False,
            unit=unit,
            **null_shares,
        )
    )
    q1, q3 = np.quantile(base, [0.25, 0.75])
    scale, scale_kind = float(q3 - q1), "interquartile range"
    if scale == 0:
        scale, scale_kind = float(base.max() - base.min()), "range"
    if scale == 0:
        results.append(
            not_applicable(
                FAMILY,
                "wasserstein_normalized",
                "the baseline column is constant (no spread to divide by)",
                columns=[column],
            )
        )
    else:
        results.append(
            metric(
                FAMILY,
                "wasserstein_normalized",
                distance / scale,
                columns=[column],
                higher_is_better=False,
                divided_by=f"baseline {scale_kind}",
                scale=scale,
            )
        )
    return results


def _categorical(tables: Tables, column: str) -> list[MetricResult]:
    codes = category_codes(tables, column)
    base_nulls = codes.real == codes.null_code
    cur_nulls = codes.synthetic == codes.null_code
    return _distribution_drift(
        column,
        codes.real,
        codes.synthetic,
        codes.size,
        binning="categories (null is a category)",
        baseline_null_share=float(base_nulls.mean()),
        current_null_share=float(cur_nulls.mean()),
    )


def _prepare(baseline: Any, current: Any, allow_extra_columns: bool) -> Tables:
    """``prepare`` with the tables named for what they are here."""
    try:
        return prepare(baseline, current, allow_extra_columns=allow_extra_columns)
    except EvaluationError as exc:
        message = str(exc)
        for old, new in (
            ("real and synthetic", "baseline and current"),
            ("the real table", "the baseline table"),
            ("the synthetic table", "the current table"),
            ("real table", "baseline table"),
            ("synthetic table", "current table"),
        ):
            message = message.replace(old, new)
        raise EvaluationError(message) from None


def drift(
    baseline: Any,
    current: Any = None,
    *,
    bins: int = 10,
    progress: Progress | None = None,
    allow_extra_columns: bool = False,
) -> list[MetricResult]:
    """PSI, Jensen-Shannon and (numerical) Wasserstein drift of every column of
    ``current`` against ``baseline`` (anything ``prepare`` takes; or one ``Tables``, whose
    real table is the baseline and synthetic table the current version)."""
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 2:
        raise EvaluationError(f"drift needs at least 2 bins, not {bins!r}")
    if isinstance(baseline, Tables):
        if current is not None:
            raise EvaluationError("pass either one Tables or a baseline and a current table")
        tables = baseline
    else:
        if current is None:
            raise EvaluationError("drift needs a baseline and a current table")
        tables = _prepare(baseline, current, allow_extra_columns)
    if progress is not None:
        progress(f"drift: {len(tables.kinds)} columns")
    results: list[MetricResult] = []
    for column, kind in tables.kinds.items():
        if kind in ("numerical", "datetime"):
            results += _numerical(tables, column, bins)
        else:
            results += _categorical(tables, column)
    return results


__all__ = ["drift", "js_distance", "psi", "quantile_bins"]
