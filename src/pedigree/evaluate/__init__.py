"""Evaluations: fidelity, privacy risk, fairness, utility and drift, recorded as lineage.

``pedigree.evaluate(synthetic, real, holdout, target=…, sensitive=[…])`` measures and
records (see ``pedigree.evaluate.record``); ``compute`` measures only. This package is
itself callable, so ``pedigree.evaluate(...)`` works whether or not it was imported.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from pedigree.evaluate.evaluation import ENGINES, FAMILIES, Evaluation, compare, compute
from pedigree.evaluate.record import check_expectations, evaluate
from pedigree.evaluate.result import MetricResult


def drift(baseline: Any, current: Any, **options: Any) -> list[MetricResult]:
    """PSI, Jensen-Shannon and Wasserstein per column between two versions of a table."""
    from pedigree.evaluate.drift import drift as measure

    return measure(baseline, current, **options)


class _Callable(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Evaluation:
        return evaluate(*args, **kwargs)


sys.modules[__name__].__class__ = _Callable

__all__ = [
    "ENGINES",
    "FAMILIES",
    "Evaluation",
    "MetricResult",
    "check_expectations",
    "compare",
    "compute",
    "drift",
    "evaluate",
]
