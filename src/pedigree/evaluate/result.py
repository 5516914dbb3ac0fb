"""One metric's outcome, the shape every evaluation family returns.

A metric that cannot be computed on the data at hand (a constant column, an all-null
column, a missing target) is kept with ``value=None`` and the reason in
``not_applicable``: never a crash and never a silent NaN.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

Family = Literal["fidelity", "privacy", "fairness", "utility", "drift"]


class MetricResult(BaseModel):
    """``name`` is the metric (``ks_complement``); ``column``/``columns`` what it is about
    (none for a table-level figure). ``higher_is_better`` says which way ``threshold``
    applies: ``passed`` is ``value >= threshold`` when higher is better, else ``<=``."""

    model_config = ConfigDict(extra="forbid")

    family: Family
    name: str
    value: float | None = None
    columns: list[str] = Field(default_factory=list)
    ci: tuple[float, float] | None = None
    higher_is_better: bool | None = None
    threshold: float | None = None
    passed: bool | None = None
    not_applicable: str | None = None
    details: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _finite_or_explained(self) -> MetricResult:
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"{self.name}: value {self.value} is not finite")
        if self.value is None and not self.not_applicable:
            raise ValueError(f"{self.name}: no value and no reason why")
        return self

    @property
    def key(self) -> str:
        """``name`` or ``name[col]`` / ``name[a,b]``: unique within one evaluation."""
        return f"{self.name}[{','.join(self.columns)}]" if self.columns else self.name

    def judged(self, threshold: float | None) -> MetricResult:
        """This result with ``threshold`` applied (or unchanged when there is none)."""
        if threshold is None or self.value is None or self.higher_is_better is None:
            return self
        ok = self.value >= threshold if self.higher_is_better else self.value <= threshold
        return self.model_copy(update={"threshold": threshold, "passed": ok})


def metric(
    family: Family,
    name: str,
    value: float | None,
    *,
    columns: list[str] | tuple[str, ...] = (),
    higher_is_better: bool | None = True,
    reason: str | None = None,
    ci: tuple[float, float] | None = None,
    **details: Any,
) -> MetricResult:
    """Build a result, turning a NaN/inf value into not-applicable with ``reason``."""
    if value is not None and not math.isfinite(float(value)):
        value, reason = None, reason or "the value is not a finite number on this data"
    return MetricResult(
        family=family,
        name=name,
        value=None if value is None else float(value),
        columns=list(columns),
        ci=ci,
        higher_is_better=higher_is_better,
        not_applicable=reason if value is None else None,
        details=details,
    )


def not_applicable(
    family: Family, name: str, reason: str, *, columns: list[str] | tuple[str, ...] = ()
) -> MetricResult:
    return MetricResult(family=family, name=name, columns=list(columns), not_applicable=reason)
