"""One evaluation of a synthetic table against the real one: every family, judged.

``compute`` is pure (tables in, results out); ``pedigree.evaluate.record`` adds the
ledger around it. The JSON form of an ``Evaluation`` is what the evaluation annotation
holds, so the CLI, the server and a later comparison read one shape.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pedigree.capture.integrations import paused
from pedigree.errors import EvaluationError
from pedigree.evaluate.expectations import Outcome
from pedigree.evaluate.result import MetricResult
from pedigree.evaluate.tables import Tables, prepare
from pedigree.evaluate.thresholds import judge

FAMILIES = ("fidelity", "privacy", "fairness", "utility")
ENGINES = ("sdmetrics", "anonymeter")
"""Optional reference implementations whose results replace Pedigree's under the same names."""
HEADLINE = (
    "quality_score",
    "detection",
    "dcr_share_closer_to_train",
    "exact_copy_rate",
    "membership_inference_risk",
    "singling_out_risk",
    "linkability_risk",
    "inference_risk",
    "min_subgroup_coverage",
    "disparate_impact_difference",
    "utility_ratio",
)
"""The figures a summary leads with (one per name: the worst over its columns)."""

Progress = Callable[[str], None]


@dataclass
class Evaluation:
    results: list[MetricResult]
    thresholds: dict[str, float] = field(default_factory=dict)
    threshold_source: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    expectations: dict[str, list[Outcome]] = field(default_factory=dict)
    """Expectations of the runs that generated the evaluated version, checked against it
    (by run label); recorded beside the evaluation, not inside it."""
    tables: Tables | None = field(default=None, repr=False)
    """The prepared tables (kept for the engines; not part of the JSON form)."""

    @property
    def failed(self) -> list[MetricResult]:
        return [r for r in self.results if r.passed is False]

    @property
    def passed(self) -> bool:
        return not self.failed

    def measurements(self) -> dict[str, float | None]:
        """Every value by key (``name`` / ``name[col]``), what expectations refer to."""
        return {r.key: r.value for r in self.results}

    def headline(self) -> dict[str, MetricResult]:
        """One result per headline name: the table-level one, else the worst column."""
        chosen: dict[str, MetricResult] = {}
        for result in self.results:
            if result.name not in HEADLINE or result.value is None:
                continue
            current = chosen.get(result.name)
            if current is None or _worse(result, current):
                chosen[result.name] = result
        return {name: chosen[name] for name in HEADLINE if name in chosen}

    def summary(self) -> str:
        judged = [r for r in self.results if r.passed is not None]
        na = sum(r.value is None for r in self.results)
        text = f"{len(judged) - len(self.failed)}/{len(judged)} thresholds met"
        if self.failed:
            text += " (failed: " + ", ".join(r.key for r in self.failed[:5])
            text += f" and {len(self.failed) - 5} more)" if len(self.failed) > 5 else ")"
        if na:
            text += f"; {na} not applicable"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "passed": self.passed,
            "headline": {name: _compact(r) for name, r in self.headline().items()},
            "thresholds": self.thresholds,
            "threshold_source": self.threshold_source,
            "parameters": self.parameters,
            "notes": self.notes,
            "metrics": [r.model_dump(mode="json", exclude_defaults=True) for r in self.results],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Evaluation:
        return cls(
            results=[MetricResult.model_validate(m) for m in data.get("metrics", [])],
            thresholds=dict(data.get("thresholds", {})),
            threshold_source=str(data.get("threshold_source", "")),
            parameters=dict(data.get("parameters", {})),
            notes=list(data.get("notes", [])),
        )


def _worse(a: MetricResult, b: MetricResult) -> bool:
    if not a.columns and b.columns:
        return True  # the table-level figure wins
    if a.columns and not b.columns:
        return False
    assert a.value is not None and b.value is not None
    return a.value < b.value if a.higher_is_better is not False else a.value > b.value


def _compact(result: MetricResult) -> dict[str, Any]:
    data: dict[str, Any] = {"value": result.value}
    if result.columns:
        data["columns"] = result.columns
    for key in ("threshold", "passed", "ci"):
        if getattr(result, key) is not None:
            data[key] = getattr(result, key)
    return data


def library_versions() -> dict[str, str]:
    out = {}
    for name in ("numpy", "pandas", "scipy", "scikit-learn"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[name] = importlib.metadata.version(name)
    return out


def compute(
    synthetic: Any,
    real: Any,
    holdout: Any = None,
    *,
    target: str | None = None,
    sensitive: Iterable[str] = (),
    families: Iterable[str] = FAMILIES,
    thresholds: Mapping[str, float] | None = None,
    seed: int = 0,
    engines: Iterable[str] = (),
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate ``synthetic`` against ``real`` (the generator's training data) and, for
    the privacy metrics that need it, a real ``holdout`` it never saw. ``engines``
    (``sdmetrics``, ``anonymeter``) re-run those figures with the reference library."""
    engines = list(engines)
    unknown = [e for e in engines if e not in ENGINES]
    if unknown:
        raise EvaluationError(f"unknown engine {unknown[0]!r}; choose from {', '.join(ENGINES)}")
    with paused():  # the evaluation's own classifiers are not lineage
        evaluation = _compute(
            real, synthetic, holdout, target, sensitive, families, thresholds, seed, progress
        )
        if engines:
            merged = _with_engines(evaluation, engines, seed, progress)
            evaluation.results = judge(merged, thresholds or {})
            evaluation.parameters["engines"] = engines
    return evaluation


def _with_engines(
    evaluation: Evaluation, engines: list[str], seed: int, progress: Progress | None
) -> list[MetricResult]:
    """Our results, with those an engine also computes replaced by the engine's."""
    tables = evaluation.tables
    assert tables is not None
    families = evaluation.parameters["families"]
    replaced: dict[str, MetricResult] = {}
    for engine in engines:
        if progress:
            progress(f"{engine} engine")
        if engine == "sdmetrics" and ("fidelity" in families or "privacy" in families):
            from pedigree.evaluate.engines import sdmetrics

            found = sdmetrics.run(tables, privacy="privacy" in families)
        elif engine == "anonymeter" and "privacy" in families:
            from pedigree.evaluate.engines import anonymeter

            found = anonymeter.run(tables, seed=seed)
        else:
            continue
        replaced.update({r.key: r for r in found if r.family in families})
    ours = {r.key for r in evaluation.results}
    merged = [replaced.get(r.key, r) for r in evaluation.results]
    return merged + [r for key, r in replaced.items() if key not in ours]


def _compute(
    real: Any,
    synthetic: Any,
    holdout: Any,
    target: str | None,
    sensitive: Iterable[str],
    families: Iterable[str],
    thresholds: Mapping[str, float] | None,
    seed: int,
    progress: Progress | None,
) -> Evaluation:
    tables = prepare(real, synthetic, holdout)
    sensitive = list(sensitive)
    chosen = [f for f in families if f in FAMILIES]
    say = progress or (lambda _: None)
    results: list[MetricResult] = []
    if "fidelity" in chosen:
        from pedigree.evaluate.fidelity import fidelity

        say("fidelity")
        results += fidelity(tables, seed=seed, progress=progress)
    if "privacy" in chosen:
        from pedigree.evaluate.privacy import privacy

        say("privacy")
        results += privacy(tables, seed=seed, progress=progress)
    if "fairness" in chosen and (sensitive or target):
        from pedigree.evaluate.fairness import fairness

        say("fairness")
        results += fairness(tables, sensitive, target=target)
    if "utility" in chosen and target:
        from pedigree.evaluate.utility import utility

        say("utility")
        results += utility(tables, target, seed=seed)
    parameters = {
        "target": target,
        "sensitive": sensitive,
        "families": chosen,
        "seed": seed,
        "rows": {
            "real": len(tables.real),
            "synthetic": len(tables.synthetic),
            "holdout": None if tables.holdout is None else len(tables.holdout),
        },
        "columns": dict(tables.kinds),
        "libraries": library_versions(),
    }
    evaluation = Evaluation(
        results=judge(results, thresholds or {}),
        thresholds=dict(thresholds or {}),
        parameters=parameters,
        notes=list(tables.notes),
    )
    evaluation.tables = tables
    return evaluation


def compare(current: Evaluation, previous: Evaluation) -> dict[str, dict[str, float | None]]:
    """Headline figures now and before, with the change (for a later version's report)."""
    before = previous.headline()
    out: dict[str, dict[str, float | None]] = {}
    for name, result in current.headline().items():
        old = before.get(name)
        old_value = old.value if old is not None else None
        change = (
            None
            if old_value is None or result.value is None
            else round(result.value - old_value, 6)
        )
        out[name] = {"current": result.value, "previous": old_value, "change": change}
    return out


__all__ = ["ENGINES", "FAMILIES", "Evaluation", "Tables", "compare", "compute"]
