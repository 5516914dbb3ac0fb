"""The scikit-learn and copulas integrations, against a real store."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import pedigree
from pedigree.capture import delivery, integrations
from pedigree.model import DatasetVersion, ModelVersion, Run
from pedigree.store import Ledger


@pytest.fixture
def captured(captured: Ledger) -> Iterator[Ledger]:
    """The shared fixture, with the integrations enabled."""
    integrations.enable("sklearn", "copulas")
    try:
        yield captured
    finally:
        integrations.disable()
        integrations.failures.clear()


def runs(ledger: Ledger) -> list[Run]:
    return [e.body for e in ledger.entries() if isinstance(e.body, Run)]


def data(n: int = 200) -> tuple[pd.DataFrame, pd.Series]:
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    return X, (X["a"] + X["b"] > 0).astype(int).rename("label")


def test_fit_records_a_train_run_with_params_data_and_model(captured: Ledger) -> None:
    from sklearn.linear_model import LogisticRegression

    X, y = data()
    with pedigree.run("models/train", kind="train"):
        model = LogisticRegression(C=0.5).fit(X, y)
    parent, child, _ = runs(captured)
    assert child.job.name == "sklearn/LogisticRegression" and child.kind == "train"
    assert child.parent_run_id == parent.run_id
    assert child.parameters["C"] == 0.5
    assert child.parameters["estimator"] == "sklearn.linear_model._logistic.LogisticRegression"
    assert [(i.name, i.role) for i in child.inputs] == [
        ("models/train/training", "training"),
        ("models/train/target", "target"),
    ]
    [output] = child.outputs
    [version] = [e.body for e in captured.entries() if isinstance(e.body, ModelVersion)]
    assert output.version == version.version and version.model_class.endswith("LogisticRegression")
    assert model.coef_.shape == (1, 2)


def test_fit_results_are_unchanged_and_nested_fits_are_not_recorded(captured: Ledger) -> None:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data()
    integrations.disable()
    plain = make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0))
    expected = plain.fit(X, y).predict_proba(X)
    integrations.enable("sklearn")
    patched = make_pipeline(
        StandardScaler(), RandomForestClassifier(n_estimators=5, random_state=0)
    )
    assert np.array_equal(patched.fit(X, y).predict_proba(X), expected)
    [record] = runs(captured)  # the pipeline's fit, not each step's nor each tree's
    assert record.job.name == "sklearn/Pipeline"


def test_numpy_inputs_are_recorded_as_tables(captured: Ledger) -> None:
    from sklearn.linear_model import LinearRegression

    LinearRegression().fit(np.arange(20.0).reshape(10, 2), np.arange(10.0))
    [record] = runs(captured)
    names = {e.body.name: e.body for e in captured.entries() if isinstance(e.body, DatasetVersion)}
    assert [c.name for c in names["sklearn/LinearRegression/training"].columns] == ["x0", "x1"]
    assert record.parent_run_id is None


def test_estimators_defined_after_enable_are_patched(captured: Ledger) -> None:
    from tests.capture import late_estimator  # imported (so its class defined) only now

    late_estimator.Mean().fit(np.ones((3, 1)))
    assert [r.job.name for r in runs(captured)] == ["sklearn/Mean"]


def test_a_recording_failure_never_breaks_the_call(captured: Ledger) -> None:
    from sklearn.linear_model import LinearRegression

    captured.close()
    delivery.configure(ledger=Ledger.__new__(Ledger))  # an unusable ledger
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LinearRegression().fit(np.arange(6.0).reshape(3, 2), np.arange(3.0))
    assert hasattr(model, "coef_")
    assert integrations.failures and "LinearRegression.fit" in integrations.failures[-1]
    assert any("pedigree could not record" in str(w.message) for w in caught)


def test_copula_sample_records_a_generate_run(captured: Ledger) -> None:
    from copulas.multivariate import GaussianMultivariate

    X, _ = data(100)
    with pedigree.run("synth", kind="generate"):
        pedigree.seed(3)
        copula = GaussianMultivariate()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            copula.fit(X)
        synthetic = copula.sample(40)
    _parent, child, _ = runs(captured)
    assert child.job.name == "copulas/GaussianMultivariate" and child.kind == "generate"
    assert [(i.name, i.role) for i in child.inputs] == [("synth/real", "real")]
    assert [(o.name, o.role) for o in child.outputs] == [("synth/synthetic", "synthetic")]
    assert (
        child.parameters["num_rows"] == 40
        and {"random": 3, "numpy": 3}.items() <= child.seeds.items()
    )
    assert len(synthetic) == 40
    # the model object carries nothing of ours (its pickled state is the library's own)
    assert not [k for k in vars(copula) if "pedigree" in k]


def test_enable_unknown_integration_is_a_clear_error() -> None:
    from pedigree.errors import RecordError

    with pytest.raises(RecordError, match="unknown integration 'torch'"):
        integrations.enable("torch")


def test_sdv_synthesizer_sample_records_one_generate_run(captured: Ledger) -> None:
    pytest.importorskip("sdv", reason="the sdv extra is not installed")
    from sdv.metadata import Metadata
    from sdv.single_table import GaussianCopulaSynthesizer

    integrations.enable("sdv")
    X, y = data(120)
    real = X.assign(label=y)
    metadata = Metadata.detect_from_dataframes({"people": real})
    synthesizer = GaussianCopulaSynthesizer(metadata, default_distribution="norm")
    with pedigree.run("synth/sdv", kind="generate"):
        synthesizer.fit({"people": real})  # SDV 2 takes {table name: frame}
        synthetic = synthesizer.sample(50)
    names = [r.job.name for r in runs(captured)]
    assert names == [
        "synth/sdv",
        "sdv/GaussianCopulaSynthesizer",
        "synth/sdv",
    ]  # no inner copulas run
    child = runs(captured)[1]
    assert child.parameters["synthesizer_parameters"]["default_distribution"] == "norm"
    assert child.parameters["library"].startswith("sdv ") and "columns" in str(
        child.parameters["metadata"]
    )
    assert [i.role for i in child.inputs] == ["real"] and [o.role for o in child.outputs] == [
        "synthetic"
    ]
    assert len(next(iter(synthetic.values())) if isinstance(synthetic, dict) else synthetic) == 50


def test_an_evaluation_s_own_classifiers_are_not_recorded(captured: Ledger) -> None:
    from pedigree.evaluate import compute

    X, y = data(300)
    real = X.assign(label=y)
    compute(
        real.sample(frac=1.0, random_state=1),
        real,
        target="label",
        families=["fidelity", "utility"],
    )
    assert runs(captured) == []
