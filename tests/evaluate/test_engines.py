"""``engines``: the reference libraries' figures under the same names as ours."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from pedigree.errors import EvaluationError
from pedigree.evaluate import compute


def frame(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame(
        {
            "x": x.round(3),
            "y": (x * 2 + rng.normal(size=n)).round(3),
            "group": np.where(x + rng.normal(size=n) > 0, "a", "b"),
            "flag": rng.random(n) < 0.3,
        }
    )


def test_sdmetrics_engine_replaces_our_figures_with_equal_ones() -> None:
    pytest.importorskip("sdmetrics")
    real, synthetic, holdout = frame(400, 0), frame(400, 1), frame(400, 2)
    ours = compute(synthetic, real, holdout, families=["fidelity", "privacy"])
    theirs = compute(
        synthetic,
        real,
        holdout,
        families=["fidelity", "privacy"],
        engines=["sdmetrics"],
        thresholds={"quality_score": 0.5},
    )
    by_key = {r.key: r for r in theirs.results}
    for name in (
        "quality_score",
        "column_shapes",
        "column_pair_trends",
        "dcr_share_closer_to_train",
    ):
        assert by_key[name].details == {"engine": "sdmetrics"}
        mine = next(r for r in ours.results if r.key == name)
        assert by_key[name].value == pytest.approx(mine.value, abs=1e-6)
    assert by_key["ks_complement[x]"].details == {"engine": "sdmetrics"}
    assert (
        by_key["range_coverage[x]"].details.get("engine") is None
    )  # ours: SDMetrics' report lacks it
    assert theirs.parameters["engines"] == ["sdmetrics"]
    assert by_key["quality_score"].passed is not None  # thresholds apply to engine results too


def test_missing_or_unknown_engines_are_clear_errors() -> None:
    real = frame(50, 0)
    with pytest.raises(EvaluationError, match="unknown engine 'magic'"):
        compute(real, real, engines=["magic"])
    if importlib.util.find_spec("anonymeter") is None:
        with pytest.raises(EvaluationError, match="pip install anonymeter"):
            compute(real, real, real, families=["privacy"], engines=["anonymeter"])
