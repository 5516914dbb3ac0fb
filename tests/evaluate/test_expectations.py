"""Intent expectations: the grammar, and what each measurement resolves to."""

from __future__ import annotations

import pandas as pd
import pytest

from pedigree.errors import EvaluationError
from pedigree.evaluate.expectations import check, parse

TABLE = pd.DataFrame({"vote": [1, 1, 0, 0, 1, 0], "age": [20, 30, None, 50, 60, 70]})


@pytest.mark.parametrize(
    ("text", "status", "observed"),
    [
        ("imbalance_ratio(vote) <= 1.5", "held", {"imbalance_ratio(vote)": 1.0}),
        ("not has_column(respondent_id)", "held", {"has_column(respondent_id)": False}),
        ("row_count() >= 10", "violated", {"row_count()": 6}),
        ("null_rate(age) < 0.2 and 0.4 < share(vote, 1) < 0.6", "held", None),
        ("dcr_share_closer_to_train <= 0.55", "violated", {"dcr_share_closer_to_train": 0.6}),
        ("ks_complement(age) >= 0.9", "held", {"ks_complement(age)": 0.95}),
        ("detection > 0.5 or quality_score > 0.8", "held", None),
        ("mean(missing) > 1", "unknown", {}),
        ("inference_risk(age) < 0.1", "unknown", {}),
    ],
)
def test_expectations(text: str, status: str, observed: dict | None) -> None:
    measurements = {
        "dcr_share_closer_to_train": 0.6,
        "ks_complement[age]": 0.95,
        "detection": 0.4,
        "quality_score": 0.9,
        "inference_risk[age]": None,  # not applicable
    }
    outcome = check(text, measurements=measurements, table=TABLE)
    assert outcome.status == status, outcome
    if observed is not None:
        assert outcome.observed == observed
    if status == "unknown":
        assert outcome.reason


def test_without_the_output_table_table_functions_fall_back_to_measurements() -> None:
    outcome = check("imbalance_ratio(vote) <= 1.5", measurements={"imbalance_ratio[vote]": 2.0})
    assert outcome.status == "violated"
    assert check("row_count() > 1", measurements={}).status == "unknown"


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "open('x').read() > 0",
        "x.y > 1",
        "[1, 2] == 3",
        "lambda: 1",
        "a if b else c",
        "f(k=1) > 0",
        "1 +",
    ],
)
def test_anything_outside_the_grammar_is_refused(text: str) -> None:
    with pytest.raises(EvaluationError, match="expectation"):
        parse(text)
