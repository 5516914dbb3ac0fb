"""Fairness, representativeness and utility metrics on data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pedigree.errors import EvaluationError
from pedigree.evaluate.fairness import fairness, imbalance_ratio
from pedigree.evaluate.tables import prepare
from pedigree.evaluate.utility import utility


def people(n: int, seed: int, *, share_b: float = 0.3, rate_b: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = np.where(rng.random(n) < share_b, "b", "a")
    income = rng.normal(50, 10, n) + (group == "b") * 5
    label = (rng.random(n) < np.where(group == "b", rate_b, 0.5)).astype(int)
    return pd.DataFrame(
        {"group": group, "age": rng.integers(18, 80, n), "income": income, "label": label}
    )


def by_key(results):  # type: ignore[no-untyped-def]
    return {r.key: r for r in results}


def test_a_faithful_copy_is_fair_and_representative() -> None:
    real = people(4_000, 0)
    got = by_key(fairness(prepare(real, real.copy()), ["group"], target="label"))
    assert got["subgroup_share_difference[group]"].value == 0
    assert got["min_subgroup_coverage[group]"].value == 1
    assert got["label_rate_difference[group]"].value == 0
    assert got["disparate_impact_difference[group]"].value == 0


def test_a_dropped_subgroup_and_a_biased_label_are_seen() -> None:
    real = people(4_000, 0, share_b=0.3, rate_b=0.5)
    synthetic = people(4_000, 1, share_b=0.05, rate_b=0.1)
    got = by_key(fairness(prepare(real, synthetic), ["group", "age"], target="label"))
    assert got["subgroup_share_difference[group]"].value == pytest.approx(0.25, abs=0.03)
    assert got["min_subgroup_coverage[group]"].value == pytest.approx(0.05 / 0.3, abs=0.03)
    assert got["min_subgroup_coverage[group]"].details["worst_group"] == "b"
    assert got["label_rate_difference[group]"].value == pytest.approx(0.4, abs=0.05)
    assert got["disparate_impact_synthetic[group]"].value == pytest.approx(0.2, abs=0.07)
    # a numerical sensitive column is cut into the real data's quintiles
    assert len(got["subgroup_share_difference[age]"].details["shares"]) == 5


def test_fairness_bad_input_is_not_applicable_with_a_reason() -> None:
    real = people(500, 0).assign(label=3, constant="x")
    got = by_key(fairness(prepare(real, real), ["group", "missing"], target="label"))
    assert "no column 'missing'" in got["subgroup_share_difference[missing]"].not_applicable
    assert "not binary" in got["label_rate_difference[group]"].not_applicable
    assert "fewer than two classes" in got["imbalance_ratio[label]"].not_applicable
    assert all(r.value is None or np.isfinite(r.value) for r in got.values())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["x", "y", "z"]), min_size=2, max_size=60))
def test_imbalance_ratio_is_at_least_one(values: list[str]) -> None:
    ratio = imbalance_ratio(pd.Series(values))
    assert ratio is None if len(set(values)) < 2 else ratio >= 1


def test_utility_tstr_close_to_trtr_for_good_synthetic_data() -> None:
    real, holdout, synthetic = people(3_000, 0), people(1_000, 1), people(3_000, 2)
    got = by_key(utility(prepare(real, synthetic, holdout), "label", seed=0))
    assert got["utility_ratio[label]"].details["task"] == "classification"
    assert got["utility_ratio[label]"].value == pytest.approx(1.0, abs=0.25)
    assert {"trtr_roc_auc[label]", "tstr_accuracy[label]"} <= set(got)


def test_utility_of_noise_is_low_and_regression_works() -> None:
    def linked(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(income=frame["age"] * 2.0 + frame["income"] / 10)

    real, holdout = linked(people(3_000, 0)), linked(people(1_000, 1))
    noise = real.assign(income=np.random.default_rng(3).permutation(real["income"].to_numpy()))
    got = by_key(utility(prepare(real, noise, holdout), "income", seed=0))
    assert got["utility_ratio[income]"].details["task"] == "regression"
    assert got["trtr_r2[income]"].value > 0.9 and got["tstr_r2[income]"].value < 0.1
    assert got["utility_ratio[income]"].value < 0.1


def test_utility_bad_input() -> None:
    real = people(200, 0)
    assert "no target column" in utility(prepare(real, real), "nope")[0].not_applicable
    one_class = real.assign(label=1)
    assert "one class" in utility(prepare(one_class, one_class), "label")[0].not_applicable


def test_prepare_names_mismatched_columns_and_empty_tables() -> None:
    real = people(50, 0)
    with pytest.raises(EvaluationError, match="only in the real table: income"):
        prepare(real, real.drop(columns=["income"]))
    with pytest.raises(EvaluationError, match="synthetic table is empty"):
        prepare(real, real.iloc[:0])
    mixed = prepare(real, real.assign(age=real["age"].astype(str)))
    assert mixed.kinds["age"] == "categorical" and "compared as text" in mixed.notes[0]
