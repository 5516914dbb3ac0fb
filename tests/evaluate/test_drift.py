"""Drift between two versions of a dataset: PSI, Jensen-Shannon, Wasserstein."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from pedigree.errors import EvaluationError
from pedigree.evaluate.drift import PSI_EPSILON, drift, psi, quantile_bins
from pedigree.evaluate.result import MetricResult
from pedigree.evaluate.tables import prepare


def by_key(results: list[MetricResult]) -> dict[str, MetricResult]:
    return {r.key: r for r in results}


def version(n: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "amount": rng.normal(100 + 10 * shift, 20, n),
            "count": rng.poisson(3, n),
            "channel": rng.choice(
                ["web", "app", "shop"], n, p=[0.5, 0.3 + 0.1 * shift, 0.2 - 0.1 * shift]
            ),
            "flag": rng.random(n) < 0.5,
            "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
        }
    )
    df.loc[rng.random(n) < 0.05, "amount"] = np.nan
    return df


def test_definitions_on_a_hand_example() -> None:
    baseline = pd.DataFrame({"x": np.arange(1.0, 11.0), "c": list("aaaaabbbbb")})
    current = pd.DataFrame({"x": np.arange(3.0, 13.0), "c": list("aaabbbbbbc")})
    got = by_key(drift(baseline, current, bins=5))
    # quintile cuts of 1..10: 2.8, 4.6, 6.4, 8.2 -> baseline 2/2/2/2/2, current 0/2/2/2/4
    p = np.full(5, 0.2)
    q = np.array([0.0, 0.2, 0.2, 0.2, 0.4])
    expected = float(
        np.sum((np.maximum(q, PSI_EPSILON) - p) * np.log(np.maximum(q, PSI_EPSILON) / p))
    )
    assert got["psi[x]"].value == pytest.approx(expected, abs=1e-12)
    assert got["jensen_shannon[x]"].value == pytest.approx(jensenshannon(p, q, base=2), abs=1e-12)
    assert got["wasserstein[x]"].value == pytest.approx(2.0)
    assert got["wasserstein_normalized[x]"].value == pytest.approx(2.0 / 4.5)  # IQR of 1..10
    pc, qc = np.array([0.5, 0.5, 0.0]), np.array([0.3, 0.6, 0.1])
    assert got["psi[c]"].value == pytest.approx(psi(pc, qc), abs=1e-12)
    assert got["jensen_shannon[c]"].value == pytest.approx(jensenshannon(pc, qc, base=2))
    assert "wasserstein[c]" not in got
    for r in got.values():
        assert r.family == "drift" and r.higher_is_better is False


def test_agrees_with_scipy_on_realistic_versions() -> None:
    base, cur = version(4000, 1), version(3500, 2, shift=1.0)
    got = by_key(drift(base, cur))
    tables = prepare(base, cur)
    for column in ("amount", "count", "at"):
        a, b = tables.numeric(tables.real, column), tables.numeric(tables.synthetic, column)
        assert got[f"wasserstein[{column}]"].value == pytest.approx(
            wasserstein_distance(a, b), rel=1e-12
        )
    assert got["wasserstein[at]"].details["unit"] == "seconds"
    # the shifted columns drift more than the unshifted ones
    assert got["psi[amount]"].value > 0.1 > got["psi[count]"].value
    assert got["psi[channel]"].value > got["psi[flag]"].value
    assert got["psi[amount]"].details["bins"] == 11  # 10 quantile bins + nulls


def test_quantile_bins_collapse_ties_and_cover_outliers() -> None:
    base = np.array([1.0] * 8 + [2.0, 3.0])
    b, c, size = quantile_bins(base, np.array([-100.0, 1.0, 2.5, 100.0]), 10)
    # deciles of the baseline: 1 (x7), 1.2, 2.1 -> cuts 1, 1.2, 2.1 -> 4 right-closed bins
    assert size == 4 and list(b) == [0] * 8 + [2, 3] and list(c) == [0, 0, 3, 3]


def test_edge_cases_are_not_applicable_with_reasons() -> None:
    base = pd.DataFrame(
        {
            "constant": [5.0] * 20,
            "empty": [np.nan] * 20,
            "gone": np.arange(20.0),
            "one": ["x"] * 20,
            "mixed": pd.Series([1, "a", 2.5, None] * 5, dtype=object),
        }
    )
    cur = base.copy()
    cur["constant"] = [5.0] * 10 + [6.0] * 10
    cur["gone"] = np.nan
    got = by_key(drift(base, cur))
    for r in got.values():
        assert r.value is None or math.isfinite(r.value)
        assert (r.value is None) == bool(r.not_applicable)
    assert got["psi[constant]"].value > 0
    assert "constant" in got["wasserstein_normalized[constant]"].not_applicable
    assert got["wasserstein[constant]"].value == pytest.approx(0.5)
    assert "no (finite) values" in got["psi[empty]"].not_applicable
    assert "no values" in got["wasserstein[gone]"].not_applicable
    assert got["psi[gone]"].value > 1  # every value became null: the null bin says so
    assert got["psi[one]"].value == 0.0 and got["jensen_shannon[mixed]"].value == 0.0


def test_tiny_and_bad_inputs() -> None:
    one = pd.DataFrame({"x": [1.0], "c": ["a"]})
    got = by_key(drift(one, pd.DataFrame({"x": [3.0], "c": ["b"]})))
    assert got["wasserstein[x]"].value == 2.0
    assert got["jensen_shannon[c]"].value == pytest.approx(1.0)
    with pytest.raises(EvaluationError, match="baseline and current tables have different"):
        drift(one, pd.DataFrame({"y": [1.0]}))
    with pytest.raises(EvaluationError, match="current table is empty"):
        drift(one, one.iloc[:0])
    with pytest.raises(EvaluationError, match="at least 2 bins"):
        drift(one, one, bins=1)
    tables = prepare(one, one)
    assert by_key(drift(tables))["psi[x]"].value == 0.0


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 30))
    floats = st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False))
    return pd.DataFrame(
        {
            "f": pd.Series(draw(st.lists(floats, min_size=rows, max_size=rows)), dtype=float),
            "c": draw(st.lists(st.sampled_from(["a", "b", None]), min_size=rows, max_size=rows)),
            "b": draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
        }
    )


@settings(max_examples=50, deadline=None)
@given(frames(), st.integers(2, 12))
def test_drift_against_itself_is_zero(df: pd.DataFrame, bins: int) -> None:
    for r in drift(df, df.sample(frac=1, random_state=1), bins=bins):
        assert r.value == 0.0 if r.value is not None else r.not_applicable, r.key


@settings(max_examples=50, deadline=None)
@given(frames(), frames())
def test_drift_is_finite_and_non_negative(a: pd.DataFrame, b: pd.DataFrame) -> None:
    for r in drift(a, b):
        assert r.value is None or (math.isfinite(r.value) and r.value >= 0), r.key
        if r.name == "jensen_shannon" and r.value is not None:
            assert r.value <= 1.0 + 1e-12
