"""SDMetrics' own reports on the tables Pedigree's metrics see, returned under the same
names (``engine: sdmetrics`` in each result's details).

``QualityReport`` gives the column shapes (``ks_complement`` / ``tv_complement`` per
column), the column pair trends (``correlation_similarity`` / ``contingency_similarity``
per pair) and the overall ``quality_score``; with a hold-out, ``DCROverfittingProtection``
gives ``dcr_overfitting_protection`` and ``dcr_share_closer_to_train``. It is slower than
Pedigree's own (see docs/benchmarks.md) and gives the same numbers; use it to show a
reader the reference implementation's figures. sdmetrics is not a dependency of the
package: without it, ``run`` raises ``EvaluationError`` saying how to get it.
"""

from __future__ import annotations

import warnings
from typing import Any

from pedigree.errors import EvaluationError
from pedigree.evaluate.result import MetricResult, metric
from pedigree.evaluate.tables import Tables

ENGINE = {"engine": "sdmetrics"}
METRIC_NAMES = {
    "KSComplement": "ks_complement",
    "TVComplement": "tv_complement",
    "CorrelationSimilarity": "correlation_similarity",
    "ContingencySimilarity": "contingency_similarity",
}
PROPERTY_NAMES = {"Column Shapes": "column_shapes", "Column Pair Trends": "column_pair_trends"}


def metadata(tables: Tables) -> dict[str, Any]:
    """SDMetrics single-table metadata from the kinds Pedigree assigned."""
    return {"columns": {column: {"sdtype": kind} for column, kind in tables.kinds.items()}}


def run(tables: Tables, *, privacy: bool = True) -> list[MetricResult]:
    try:
        with warnings.catch_warnings():  # 0.32 moved it; the old path still works, and warns
            warnings.simplefilter("ignore", FutureWarning)
            from sdmetrics.reports.single_table import QualityReport
    except ImportError:
        raise EvaluationError(
            "the sdmetrics engine needs SDMetrics: pip install sdmetrics"
        ) from None
    meta = metadata(tables)
    report = QualityReport()
    report.generate(tables.real, tables.synthetic, meta, verbose=False)
    results: list[MetricResult] = []
    for _, row in report.get_details("Column Shapes").iterrows():
        name = METRIC_NAMES.get(str(row["Metric"]), str(row["Metric"]))
        results.append(
            metric(
                "fidelity",
                name,
                row["Score"],
                columns=[str(row["Column"])],
                reason="SDMetrics gave no score",
                **ENGINE,
            )
        )
    for _, row in report.get_details("Column Pair Trends").iterrows():
        name = METRIC_NAMES.get(str(row["Metric"]), str(row["Metric"]))
        columns = [str(row["Column 1"]), str(row["Column 2"])]
        results.append(
            metric(
                "fidelity",
                name,
                row["Score"],
                columns=columns,
                reason="SDMetrics gave no score",
                **ENGINE,
            )
        )
    for _, row in report.get_properties().iterrows():
        name = PROPERTY_NAMES.get(str(row["Property"]), str(row["Property"]))
        results.append(
            metric("fidelity", name, row["Score"], reason="SDMetrics gave no score", **ENGINE)
        )
    results.append(
        metric(
            "fidelity",
            "quality_score",
            report.get_score(),
            reason="SDMetrics gave no score",
            **ENGINE,
        )
    )
    if privacy and tables.holdout is not None:
        results += _dcr(tables, meta)
    return results


def _dcr(tables: Tables, meta: dict[str, Any]) -> list[MetricResult]:
    from sdmetrics.single_table import DCROverfittingProtection

    breakdown = DCROverfittingProtection.compute_breakdown(
        real_training_data=tables.real,
        synthetic_data=tables.synthetic,
        real_validation_data=tables.holdout,
        metadata=meta,
        table_name=None,
    )
    share = breakdown["synthetic_data_percentages"]["closer_to_training"]
    return [
        metric("privacy", "dcr_overfitting_protection", breakdown["score"], **ENGINE),
        metric("privacy", "dcr_share_closer_to_train", share, higher_is_better=False, **ENGINE),
    ]
