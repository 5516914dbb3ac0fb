"""Pass/fail thresholds: what "good enough" means depends on what the data is for.

Thresholds come, in increasing priority, from the defaults for the dataset's intended use
(``internal`` when none is recorded), from a ``thresholds`` mapping in its recorded
``intended_use`` annotation, and from the caller (``--threshold NAME=VALUE``). A
threshold applies to every result of that metric name (all columns); ``NAME[col]``
targets one column.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pedigree.errors import EvaluationError
from pedigree.evaluate.result import MetricResult

INTERNAL: dict[str, float] = {
    "quality_score": 0.75,
    "column_shapes": 0.75,
    "column_pair_trends": 0.7,
    "detection": 0.2,
    "dcr_share_closer_to_train": 0.6,
    "exact_copy_rate": 0.05,
    "membership_inference_risk": 0.2,
    "singling_out_risk": 0.2,
    "linkability_risk": 0.2,
    "inference_risk": 0.3,
    "min_subgroup_coverage": 0.7,
    "subgroup_share_difference": 0.1,
    "label_rate_difference": 0.15,
    "disparate_impact_difference": 0.2,
    "utility_ratio": 0.8,
    "psi": 0.25,
}
"""For data that stays inside the organisation (testing, development)."""

PROFILES: dict[str, dict[str, float]] = {
    "internal": INTERNAL,
    "external": {
        **INTERNAL,
        "quality_score": 0.8,
        "dcr_share_closer_to_train": 0.55,
        "exact_copy_rate": 0.0,
        "membership_inference_risk": 0.1,
        "singling_out_risk": 0.1,
        "linkability_risk": 0.1,
        "inference_risk": 0.2,
        "min_subgroup_coverage": 0.8,
        "subgroup_share_difference": 0.05,
        "label_rate_difference": 0.1,
        "disparate_impact_difference": 0.1,
    },
}
"""``external``: shared with partners or released; stricter on privacy and fairness."""


def profile_for(intended_use: Mapping[str, Any] | None) -> str:
    """The threshold profile an intended-use annotation body asks for (``audience`` or
    ``profile``: ``external``/``public``/``partner`` → external, else internal)."""
    if not intended_use:
        return "internal"
    value = str(intended_use.get("profile") or intended_use.get("audience") or "internal").lower()
    return (
        "external"
        if value in ("external", "public", "partner", "partners", "release")
        else "internal"
    )


def resolve_thresholds(
    intended_use: Mapping[str, Any] | None = None,
    overrides: Mapping[str, float] | None = None,
) -> tuple[dict[str, float], str]:
    """The thresholds to apply and a description of where they came from."""
    profile = profile_for(intended_use)
    thresholds = dict(PROFILES[profile])
    sources = [f"{profile} defaults"]
    recorded = (intended_use or {}).get("thresholds")
    if isinstance(recorded, Mapping) and recorded:
        thresholds.update({str(k): float(v) for k, v in recorded.items()})
        sources.append("the recorded intended use")
    if overrides:
        thresholds.update(overrides)
        sources.append("the caller")
    return thresholds, ", then ".join(sources)


def parse_threshold(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` (``--threshold quality_score=0.8``)."""
    name, sep, value = text.partition("=")
    try:
        if not sep or not name.strip():
            raise ValueError
        return name.strip(), float(value)
    except ValueError:
        raise EvaluationError(f"threshold {text!r} must look like NAME=NUMBER") from None


def judge(results: list[MetricResult], thresholds: Mapping[str, float]) -> list[MetricResult]:
    """Each result with its threshold (``name[cols]`` first, then ``name``) applied."""
    return [r.judged(thresholds.get(r.key, thresholds.get(r.name))) for r in results]
