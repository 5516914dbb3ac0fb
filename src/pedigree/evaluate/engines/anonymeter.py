"""anonymeter's three evaluators (singling out, linkability, inference) on the tables
Pedigree's own privacy metrics see, returned under the same names.

anonymeter is not a dependency (it pins ``numpy<1.27`` and ``pyarrow<22``, which the main
environment does not satisfy); install it in an environment of its own
(``make bench-anonymeter`` builds ``.venv-anonymeter``). Without it, ``run`` raises
``EvaluationError`` saying how to get it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from pedigree.errors import EvaluationError
from pedigree.evaluate.privacy import N_ATTACKS, NEEDS_HOLDOUT, SINGLING_OUT_COLUMNS
from pedigree.evaluate.result import MetricResult, metric, not_applicable
from pedigree.evaluate.tables import Tables

FAMILY = "privacy"
ENGINE = {"engine": "anonymeter"}


def _evaluators() -> Any:
    try:
        from anonymeter import evaluators
    except ImportError:
        raise EvaluationError(
            "the anonymeter engine needs anonymeter: pip install anonymeter (in an "
            "environment of its own, it pins numpy<1.27 and pyarrow<22; "
            "`make bench-anonymeter` sets one up in .venv-anonymeter)"
        ) from None
    return evaluators


def _result(name: str, risk: Any, columns: Sequence[str] = (), **details: Any) -> MetricResult:
    value = float(risk.value)
    ci = (float(risk.ci[0]), float(risk.ci[1]))
    if not math.isfinite(value):
        return not_applicable(FAMILY, name, "anonymeter returned no finite risk", columns=columns)
    return metric(
        FAMILY, name, value, columns=columns, higher_is_better=False, ci=ci, **ENGINE, **details
    )


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Booleans as text (anonymeter's neighbour search treats non-numeric as categories)."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype(str)
    return out


def run(
    tables: Tables,
    *,
    seed: int = 0,
    n_attacks: int = N_ATTACKS,
    secrets: Iterable[str] | None = None,
    link_columns: tuple[Sequence[str], Sequence[str]] | None = None,
    singling_out_columns: int = SINGLING_OUT_COLUMNS,
) -> list[MetricResult]:
    """``singling_out_risk`` (multivariate and ``_univariate``), ``linkability_risk`` and
    ``inference_risk[secret]`` as anonymeter computes them (hold-out as control; the same
    defaults as ``pedigree.evaluate.privacy``)."""
    evaluators = _evaluators()
    columns = list(tables.kinds)
    secrets = list(columns if secrets is None else secrets)
    names = ["singling_out_risk", "singling_out_risk_univariate", "linkability_risk"]
    if tables.holdout is None:
        return [not_applicable(FAMILY, n, NEEDS_HOLDOUT) for n in names] + [
            not_applicable(FAMILY, "inference_risk", NEEDS_HOLDOUT, columns=[s]) for s in secrets
        ]
    ori, syn, control = (_plain(f) for f in (tables.real, tables.synthetic, tables.holdout))
    n = min(n_attacks, len(ori), len(control))
    out: list[MetricResult] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for mode, name in (("multivariate", names[0]), ("univariate", names[1])):
            evaluator = evaluators.SinglingOutEvaluator(
                ori=ori,
                syn=syn,
                control=control,
                n_attacks=n,
                n_cols=min(singling_out_columns, len(columns)),
                seed=seed,
            )
            try:
                evaluator.evaluate(mode=mode)
                out.append(_result(name, evaluator.risk(), mode=mode))
            except (RuntimeError, ValueError) as exc:
                out.append(not_applicable(FAMILY, name, f"anonymeter: {exc}"))
        if link_columns is None:
            link_columns = (columns[0::2], columns[1::2])
        aux = (list(link_columns[0]), list(link_columns[1]))
        linkability = evaluators.LinkabilityEvaluator(
            ori=ori, syn=syn, control=control, n_attacks=n, aux_cols=aux, n_neighbors=1
        ).evaluate(n_jobs=-1)
        out.append(_result(names[2], linkability.risk(), columns_a=aux[0], columns_b=aux[1]))
        for secret in secrets:
            aux_cols = [c for c in columns if c != secret]
            inference = evaluators.InferenceEvaluator(
                ori=ori,
                syn=syn,
                control=control,
                aux_cols=aux_cols,
                secret=secret,
                n_attacks=n,
                regression=tables.kinds[secret] == "numerical",
            ).evaluate(n_jobs=-1)
            out.append(_result("inference_risk", inference.risk(), columns=[secret]))
    return out
