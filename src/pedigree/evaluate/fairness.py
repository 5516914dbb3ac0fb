"""Fairness and representativeness: are the sensitive subgroups of the real data there, in
the same proportions and with the same label rates, in the synthetic data?

Subgroups are the values of each sensitive column (a numerical column is cut into the
real data's quintiles first). For a binary target, the *positive* label is the one the
caller names, else ``1``/``True`` when present, else the rarer class in the real data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pedigree.evaluate.result import MetricResult, metric, not_applicable
from pedigree.evaluate.tables import Tables

NUMERIC_GROUPS = 5
MIN_GROUP_SHARE = 0.01
"""Subgroups rarer than this in the real data are reported but not held to coverage."""


def fairness(
    tables: Tables,
    sensitive: list[str],
    *,
    target: str | None = None,
    positive: Any = None,
) -> list[MetricResult]:
    results: list[MetricResult] = []
    for column in sensitive:
        if column not in tables.kinds:
            results.append(
                not_applicable(
                    "fairness",
                    "subgroup_share_difference",
                    f"no column {column!r}",
                    columns=[column],
                )
            )
            continue
        real_groups, syn_groups = _groups(tables, column)
        results += _representation(column, real_groups, syn_groups)
        if target is not None:
            results += _label_rates(tables, column, real_groups, syn_groups, target, positive)
    if target is not None:
        results.append(imbalance(tables.synthetic, target, table="synthetic"))
    return results


def _groups(tables: Tables, column: str) -> tuple[pd.Series, pd.Series]:
    """The subgroup of each row, as text, the same cut for both tables."""
    if tables.kinds[column] in ("numerical", "datetime"):
        real_values = tables.real[column].astype("float64")
        edges = np.unique(np.nanquantile(real_values, np.linspace(0, 1, NUMERIC_GROUPS + 1)))
        if len(edges) > 2:
            edges[0], edges[-1] = -np.inf, np.inf

            def cut(values: pd.Series) -> pd.Series:
                return (
                    pd.cut(values.astype("float64"), edges, include_lowest=True)
                    .astype("string")
                    .fillna("<null>")
                    .astype(object)
                )

            return cut(tables.real[column]), cut(tables.synthetic[column])
    return tables.categories(tables.real, column), tables.categories(tables.synthetic, column)


def _representation(column: str, real: pd.Series, syn: pd.Series) -> list[MetricResult]:
    real_share = real.value_counts(normalize=True)
    syn_share = syn.value_counts(normalize=True).reindex(
        real_share.index.union(syn.unique()), fill_value=0.0
    )
    real_share = real_share.reindex(syn_share.index, fill_value=0.0)
    shares = {
        str(g): {"real": round(float(real_share[g]), 6), "synthetic": round(float(syn_share[g]), 6)}
        for g in real_share.index
    }
    held = real_share[real_share >= MIN_GROUP_SHARE]
    coverage = (syn_share[held.index] / held).clip(upper=1.0)
    worst = str(coverage.idxmin()) if len(coverage) else None
    return [
        metric(
            "fairness",
            "subgroup_share_difference",
            float((real_share - syn_share).abs().max()),
            columns=[column],
            higher_is_better=False,
            shares=shares,
        ),
        metric(
            "fairness",
            "min_subgroup_coverage",
            float(coverage.min()) if len(coverage) else None,
            columns=[column],
            reason="no subgroup holds 1% of the real rows",
            worst_group=worst,
        ),
    ]


def positive_label(values: pd.Series, positive: Any = None) -> Any:
    classes = values.dropna().unique().tolist()
    if positive is not None:
        return positive
    for candidate in (1, True, "1", "yes", "true"):
        if candidate in classes:
            return candidate
    counts = values.value_counts()
    return counts.idxmin() if len(counts) else None


def _label_rates(
    tables: Tables,
    column: str,
    real_groups: pd.Series,
    syn_groups: pd.Series,
    target: str,
    positive: Any,
) -> list[MetricResult]:
    names = (
        "label_rate_difference",
        "disparate_impact_real",
        "disparate_impact_synthetic",
        "disparate_impact_difference",
    )
    if target not in tables.kinds:
        return [
            not_applicable("fairness", n, f"no target column {target!r}", columns=[column])
            for n in names
        ]
    if target == column:
        return [
            not_applicable("fairness", n, "the target is the sensitive column", columns=[column])
            for n in names
        ]
    if tables.real[target].nunique(dropna=True) != 2:
        reason = f"the target {target} is not binary in the real data"
        return [not_applicable("fairness", n, reason, columns=[column]) for n in names]
    label = positive_label(tables.real[target], positive)
    real_rate = (tables.real[target] == label).groupby(real_groups.to_numpy()).mean()
    syn_rate = (tables.synthetic[target] == label).groupby(syn_groups.to_numpy()).mean()
    shared = real_rate.index.intersection(syn_rate.index)
    rates = {
        str(g): {
            "real": round(float(real_rate[g]), 6),
            "synthetic": round(float(syn_rate[g]), 6) if g in syn_rate else None,
        }
        for g in real_rate.index
    }
    di_real, di_syn = _disparate_impact(real_rate), _disparate_impact(syn_rate)
    return [
        metric(
            "fairness",
            "label_rate_difference",
            float((real_rate[shared] - syn_rate[shared]).abs().max()) if len(shared) else None,
            columns=[column],
            higher_is_better=False,
            reason="no subgroup is in both tables",
            positive_label=str(label),
            rates=rates,
        ),
        metric(
            "fairness",
            "disparate_impact_real",
            di_real,
            columns=[column],
            higher_is_better=None,
            reason="a subgroup never gets the positive label",
        ),
        metric(
            "fairness",
            "disparate_impact_synthetic",
            di_syn,
            columns=[column],
            higher_is_better=None,
            reason="a subgroup never gets the positive label",
        ),
        metric(
            "fairness",
            "disparate_impact_difference",
            abs(di_real - di_syn) if di_real is not None and di_syn is not None else None,
            columns=[column],
            higher_is_better=False,
            reason="the disparate-impact ratio is undefined in one of the tables",
        ),
    ]


def _disparate_impact(rates: pd.Series) -> float | None:
    """Lowest subgroup positive rate over the highest (1 = parity; the "80% rule" is 0.8)."""
    if len(rates) < 2 or rates.max() == 0:
        return None
    return float(rates.min() / rates.max())


def imbalance_ratio(values: pd.Series) -> float | None:
    """Count of the most frequent class over the least frequent (1 = balanced)."""
    counts = values.dropna().value_counts()
    if len(counts) < 2:
        return None
    return float(counts.max() / counts.min())


def imbalance(frame: pd.DataFrame, target: str, *, table: str) -> MetricResult:
    if target not in frame.columns:
        return not_applicable(
            "fairness", "imbalance_ratio", f"no target column {target!r}", columns=[target]
        )
    return metric(
        "fairness",
        "imbalance_ratio",
        imbalance_ratio(frame[target]),
        columns=[target],
        higher_is_better=False,
        reason=f"the {table} {target} column has fewer than two classes",
        table=table,
    )
