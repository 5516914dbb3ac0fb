"""Privacy metrics: agreement with SDMetrics' DCR metrics, the copy and independent-sample
extremes, bad input, and the distance's invariants."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pedigree.evaluate.privacy import (
    delong_auc,
    distance_to_closest,
    encode,
    nearest,
    nearest_leaving_out,
    privacy,
    random_like,
    residual_risk,
    row_distances,
    wilson,
)
from pedigree.evaluate.result import MetricResult
from pedigree.evaluate.tables import prepare

METADATA = {
    "columns": {
        "x": {"sdtype": "numerical"},
        "i": {"sdtype": "numerical"},
        "c": {"sdtype": "categorical"},
        "b": {"sdtype": "boolean"},
        "t": {"sdtype": "datetime"},
        "k": {"sdtype": "numerical"},
    }
}


def mixed(n: int, seed: int, *, nulls: bool = True) -> pd.DataFrame:
    """Numerical, integer, categorical, boolean, datetime and a constant column."""
    r = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x": r.normal(size=n),
            "i": r.integers(0, 50, n),
            "c": r.choice(list("abcd"), n).astype(object),
            "b": r.random(n) < 0.3,
            "t": pd.Timestamp("2020-01-01") + pd.to_timedelta(r.integers(0, 10**8, n), unit="s"),
            "k": np.ones(n),
        }
    )
    if nulls:
        df.loc[r.random(n) < 0.1, "x"] = np.nan
        df.loc[r.random(n) < 0.1, "c"] = None
        df.loc[r.random(n) < 0.1, "t"] = pd.NaT
    return df


def bounded(n: int, seed: int) -> pd.DataFrame:
    """Columns with fixed ranges, so independent samples are alike in SDMetrics' scaling."""
    r = np.random.default_rng(seed)
    u = r.random(n)
    return pd.DataFrame(
        {
            "u": u,
            "v": np.clip(u + r.normal(scale=0.2, size=n), 0, 1),
            "z": r.integers(0, 100, n),
            "c": r.choice(list("abcde"), n),
            "d": np.where(u > 0.5, "p", "q"),
        }
    )


def by_key(results: list[MetricResult]) -> dict[str, MetricResult]:
    return {r.key: r for r in results}


def assert_no_nan(results: list[MetricResult]) -> None:
    for r in results:
        assert (r.value is not None and math.isfinite(r.value)) or r.not_applicable, r.key
        if r.ci is not None:
            assert all(math.isfinite(c) for c in r.ci), r.key


# --- agreement with SDMetrics -------------------------------------------------------------


@pytest.fixture(scope="module")
def sdm_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    train, syn, hold = mixed(240, 1), mixed(160, 2), mixed(130, 3)
    syn.iloc[:20] = train.iloc[:20].to_numpy()  # some copies: exact zeros and ties
    syn["x"] = syn["x"].astype(float)
    return train, syn.astype(train.dtypes.to_dict()), hold


def test_dcr_matches_sdmetrics_calculate_dcr(sdm_tables) -> None:
    dcr_utils = pytest.importorskip("sdmetrics.single_table.privacy.dcr_utils")
    train, syn, hold = sdm_tables
    kinds = prepare(train, syn, hold).kinds
    for reference in (train, hold):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = dcr_utils.calculate_dcr(
                dataset=syn, reference_dataset=reference, metadata=METADATA
            ).to_numpy()
        ours, _ = distance_to_closest(syn, reference, kinds)
        np.testing.assert_allclose(ours[:, 0], expected, atol=1e-9, rtol=0)


def test_overfitting_protection_matches_sdmetrics(sdm_tables) -> None:
    sdm = pytest.importorskip("sdmetrics.single_table")
    train, syn, hold = sdm_tables
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = sdm.DCROverfittingProtection.compute_breakdown(
            real_training_data=train,
            synthetic_data=syn,
            real_validation_data=hold,
            metadata=METADATA,
            table_name=None,
        )
    got = by_key(privacy(prepare(train, syn, hold), include={"dcr"}, max_pairs=None))
    assert got["dcr_overfitting_protection"].value == pytest.approx(expected["score"], abs=1e-6)
    share = expected["synthetic_data_percentages"]["closer_to_training"]
    assert got["dcr_share_closer_to_train"].value == pytest.approx(share, abs=1e-6)
    assert got["dcr_share_closer_to_train"].higher_is_better is False


def test_baseline_protection_matches_sdmetrics(sdm_tables, monkeypatch) -> None:
    sdm = pytest.importorskip("sdmetrics.single_table")
    train, syn, hold = sdm_tables
    seed = 5
    # the same random rows on both sides (SDMetrics draws its null mask unseeded)
    random_rows = random_like(train, len(syn), np.random.default_rng(seed))
    monkeypatch.setattr(
        sdm.DCRBaselineProtection,
        "_generate_random_data",
        classmethod(lambda cls, real, n=None: random_rows),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = sdm.DCRBaselineProtection.compute_breakdown(
            real_data=train, synthetic_data=syn, metadata=METADATA, table_name=None
        )
    got = by_key(
        privacy(prepare(train, syn, hold), include={"dcr_baseline"}, max_pairs=None, seed=seed)
    )["dcr_baseline_protection"]
    assert got.value == pytest.approx(expected["score"], abs=1e-6)
    medians = expected["median_DCR_to_real_data"]
    assert got.details["median_dcr_synthetic_train"] == pytest.approx(
        medians["synthetic_data"], abs=1e-9
    )


# --- the two extremes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def extremes() -> dict[str, dict[str, MetricResult]]:
    train, hold, other = bounded(500, 1), bounded(500, 2), bounded(500, 3)
    return {
        label: by_key(privacy(prepare(train, syn, hold), seed=0, n_attacks=300))
        for label, syn in (("copy", train.copy()), ("independent", other))
    }


def test_copying_generator_is_flagged(extremes) -> None:
    got = extremes["copy"]
    assert got["exact_copy_rate"].value == 1.0
    assert got["near_copy_rate"].value == 1.0
    assert got["dcr_share_closer_to_train"].value == pytest.approx(1.0)
    assert got["dcr_overfitting_protection"].value == 0.0
    assert got["membership_inference_risk"].value > 0.9
    assert got["singling_out_risk"].value > 0.8
    assert got["linkability_risk"].value > 0.8
    for column in ("u", "z", "c"):
        assert got[f"inference_risk[{column}]"].value > 0.8


def test_independent_sample_shows_no_risk(extremes) -> None:
    got = extremes["independent"]
    assert got["exact_copy_rate"].value == 0.0
    lo, hi = got["dcr_share_closer_to_train"].ci
    assert lo - 0.03 <= 0.5 <= hi + 0.03
    names = ["membership_inference_risk", "singling_out_risk", "linkability_risk"]
    names += [k for k in got if k.startswith("inference_risk[")]
    for name in names:
        result = got[name]
        assert result.value is not None and result.ci is not None, name
        assert result.ci[0] <= 0.02, (name, result.value, result.ci)  # 0 within the CI


# --- bad input ----------------------------------------------------------------------------


def test_without_holdout_the_holdout_metrics_are_not_applicable() -> None:
    results = privacy(prepare(bounded(200, 1), bounded(200, 2)), n_attacks=50)
    assert_no_nan(results)
    got = by_key(results)
    for name in (
        "dcr_share_closer_to_train",
        "dcr_overfitting_protection",
        "membership_inference_risk",
        "singling_out_risk",
        "linkability_risk",
    ):
        assert got[name].not_applicable == "needs a real hold-out"
    assert got["inference_risk[u]"].not_applicable == "needs a real hold-out"
    assert got["exact_copy_rate"].value is not None
    assert got["dcr_baseline_protection"].value is not None


def test_constant_all_null_and_tiny_tables_never_nan() -> None:
    train, syn, hold = bounded(120, 1), bounded(120, 2), bounded(120, 3)
    for frame in (train, syn, hold):
        frame["const"] = 7.0
        frame["empty"] = np.nan
        frame["empty_text"] = pd.Series([None] * len(frame), dtype=object)
    results = privacy(prepare(train, syn, hold), n_attacks=60)
    assert_no_nan(results)
    got = by_key(results)
    assert got["inference_risk[const]"].not_applicable
    assert got["inference_risk[empty]"].not_applicable
    assert got["dcr_share_closer_to_train"].value is not None

    tiny = [bounded(3, s) for s in (1, 2, 3)]
    results = privacy(prepare(*tiny))
    assert_no_nan(results)
    assert any(r.not_applicable for r in results)
    one = [bounded(1, s) for s in (1, 2, 3)]
    results = privacy(prepare(*one))
    assert_no_nan(results)
    assert by_key(results)["nndr"].not_applicable


def test_all_null_tables_have_zero_distance_and_no_nan() -> None:
    frame = pd.DataFrame({"a": [np.nan] * 5, "b": pd.Series([None] * 5, dtype=object)})
    results = privacy(prepare(frame, frame.copy(), frame.copy()), n_attacks=20)
    assert_no_nan(results)
    got = by_key(results)
    assert got["dcr_share_closer_to_train"].value == 0.0  # ties go to the hold-out
    assert got["dcr_baseline_protection"].not_applicable


def test_unknown_group_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown privacy groups"):
        privacy(prepare(bounded(10, 1), bounded(10, 2)), include={"nope"})


# --- kernels and statistics ---------------------------------------------------------------


def test_blockwise_nearest_matches_brute_force() -> None:
    a, b = mixed(150, 4), mixed(5000, 5)  # more than one reference block
    kinds = prepare(b, a).kinds
    full = row_distances(a, b, kinds)
    dist, _ = distance_to_closest(a, b, kinds, k=2)
    np.testing.assert_allclose(dist[:, 0], full.min(axis=1), atol=1e-9)
    np.testing.assert_allclose(dist[:, 1], np.sort(full, axis=1)[:, 1], atol=1e-6)
    pair = encode(a, b, kinds)
    loo = nearest_leaving_out(pair)
    for j, column in enumerate(pair.columns):
        rest = [c for c in pair.columns if c != column]
        without = row_distances(a[rest], b[rest], {c: kinds[c] for c in rest})
        np.testing.assert_allclose(
            without[np.arange(len(a)), loo[:, j]], without.min(axis=1), atol=1e-6
        )
        sub, _ = nearest(pair.subset(rest))
        np.testing.assert_allclose(sub[:, 0], without.min(axis=1), atol=1e-9)


def test_wilson_and_residual_risk_follow_anonymeter() -> None:
    centre, err = wilson(50, 100)
    assert centre == pytest.approx(0.5)
    assert err == pytest.approx(1.959964 / (100 + 1.959964**2) * math.sqrt(25 + 0.25 * 1.959964**2))
    value, (lo, hi) = residual_risk((0.6, 0.05), (0.2, 0.04))
    assert value == pytest.approx(0.5)
    assert lo < value < hi


def test_delong_auc() -> None:
    auc, var = delong_auc(np.array([3.0, 4.0, 5.0]), np.array([0.0, 1.0, 2.0]))
    assert auc == 1.0 and var == 0.0
    auc, _ = delong_auc(np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    assert auc == 0.5


column_values = st.lists(
    st.tuples(
        st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False)),
        st.one_of(st.none(), st.sampled_from(["a", "b", "c"])),
        st.integers(-5, 5),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None)
@given(column_values, column_values)
def test_distance_is_symmetric_bounded_and_zero_to_itself(rows_a, rows_b) -> None:
    a = pd.DataFrame(rows_a, columns=["x", "c", "i"]).astype({"x": float, "c": object})
    b = pd.DataFrame(rows_b, columns=["x", "c", "i"]).astype({"x": float, "c": object})
    kinds = {"x": "numerical", "c": "categorical", "i": "numerical"}
    ref = pd.concat([a, b], ignore_index=True)
    ab = row_distances(a, b, kinds, reference=ref)
    ba = row_distances(b, a, kinds, reference=ref)
    np.testing.assert_allclose(ab, ba.T, atol=1e-12)
    assert np.all((ab >= 0) & (ab <= 1 + 1e-12))
    dist, _ = distance_to_closest(a, a, kinds)
    np.testing.assert_allclose(dist[:, 0], 0.0, atol=1e-9)
    np.testing.assert_allclose(np.diag(row_distances(a, a, kinds)), 0.0, atol=1e-12)


# --- optional anonymeter engine -----------------------------------------------------------


def test_anonymeter_engine_missing_is_a_clear_error(monkeypatch) -> None:
    import builtins

    from pedigree.errors import EvaluationError
    from pedigree.evaluate.engines import anonymeter as engine

    real_import = builtins.__import__

    def no_anonymeter(name, *args, **kwargs):
        if name.startswith("anonymeter"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_anonymeter)
    with pytest.raises(EvaluationError, match="pip install anonymeter"):
        engine.run(prepare(bounded(50, 1), bounded(50, 2), bounded(50, 3)))


def test_anonymeter_engine_agrees_within_ci() -> None:
    pytest.importorskip("anonymeter")
    from pedigree.evaluate.engines import anonymeter as engine

    train, hold, syn = bounded(400, 1), bounded(400, 2), bounded(400, 1)
    tables = prepare(train, syn, hold)
    theirs = by_key(engine.run(tables, n_attacks=200, secrets=["c"]))
    ours = by_key(privacy(tables, n_attacks=200, secrets=["c"]))
    for key in ("singling_out_risk", "linkability_risk", "inference_risk[c]"):
        assert theirs[key].details["engine"] == "anonymeter"
        a, b = ours[key].ci, theirs[key].ci
        assert a is not None and b is not None
        assert a[0] <= b[1] and b[0] <= a[1], (key, ours[key].value, theirs[key].value)


@pytest.mark.parametrize(("n_hold", "how"), [(250, "fitted"), (900, "hypergeometric")])
def test_singling_out_control_scaled_to_training_size(n_hold: int, how: str) -> None:
    train = bounded(500, 1)
    got = by_key(
        privacy(
            prepare(train, train.copy(), bounded(n_hold, 2)),
            include={"singling_out"},
            n_attacks=200,
        )
    )
    risk = got["singling_out_risk"]
    assert how in str(risk.details["control_correction"])
    assert risk.value is not None and risk.value > 0.8
