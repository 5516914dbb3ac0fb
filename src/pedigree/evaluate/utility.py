"""Utility: does a model trained on the synthetic data do as well on real data as one
trained on the real data? (Train-synthetic-test-real against train-real-test-real.)

Both models are the same scikit-learn pipeline — ``HistGradientBoosting`` with native
categorical support, seeded — tested on the real hold-out (or, without one, on a seeded
30% split of the real table that the real model does not train on). Classification
reports accuracy, macro F1 and, for a binary target, ROC AUC; regression reports R².
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pedigree.evaluate.result import MetricResult, metric, not_applicable
from pedigree.evaluate.tables import Tables

MAX_TRAIN_ROWS = 50_000
"""Each model trains on at most this many rows (a seeded sample), to bound the time."""
MAX_CATEGORIES = 250
"""Categorical features with more distinct values than this are left out (identifiers)."""


def utility(tables: Tables, target: str, *, seed: int = 0) -> list[MetricResult]:
    if target not in tables.kinds:
        return [
            not_applicable(
                "utility", "utility_ratio", f"no target column {target!r}", columns=[target]
            )
        ]
    kind = tables.kinds[target]
    classify = kind in ("categorical", "boolean") or (
        kind == "numerical"
        and tables.real[target].nunique(dropna=True) <= 10
        and np.allclose(tables.real[target].dropna() % 1, 0)
    )
    if tables.holdout is not None:
        train_real, test = tables.real, tables.holdout
        split = "hold-out"
    else:
        test = tables.real.sample(frac=0.3, random_state=seed)
        train_real = tables.real.drop(index=test.index)
        split = "30% of the real table (no hold-out given)"
    test = test[test[target].notna()]
    if len(test) < 10:
        return [
            not_applicable(
                "utility",
                "utility_ratio",
                "fewer than 10 real test rows with a target",
                columns=[target],
            )
        ]
    features = [c for c in tables.kinds if c != target and _usable(tables, c)]
    if not features:
        return [
            not_applicable("utility", "utility_ratio", "no usable feature column", columns=[target])
        ]
    real_scores = _fit_score(train_real, test, features, target, classify, seed, tables)
    syn_scores = _fit_score(tables.synthetic, test, features, target, classify, seed, tables)
    if isinstance(real_scores, str) or isinstance(syn_scores, str):
        reason = real_scores if isinstance(real_scores, str) else syn_scores
        return [not_applicable("utility", "utility_ratio", str(reason), columns=[target])]
    results = []
    for name, real_value in real_scores.items():
        syn_value = syn_scores[name]
        results.append(metric("utility", f"trtr_{name}", real_value, columns=[target]))
        results.append(metric("utility", f"tstr_{name}", syn_value, columns=[target]))
    headline = "roc_auc" if "roc_auc" in real_scores else ("f1_macro" if classify else "r2")
    real_value, syn_value = real_scores[headline], syn_scores[headline]
    ratio = syn_value / real_value if real_value > 0 else None
    results.append(
        metric(
            "utility",
            "utility_ratio",
            ratio,
            columns=[target],
            reason=f"the real-trained model's {headline} is not positive",
            score=headline,
            task="classification" if classify else "regression",
            tested_on=split,
            features=features,
            model="sklearn HistGradientBoosting",
        )
    )
    return results


def _usable(tables: Tables, column: str) -> bool:
    if tables.kinds[column] == "categorical":
        return tables.real[column].nunique(dropna=True) <= MAX_CATEGORIES
    return tables.real[column].notna().any()


def _matrix(
    frame: pd.DataFrame, features: list[str], tables: Tables, categories: dict[str, list[str]]
) -> pd.DataFrame:
    out = {}
    for column in features:
        kind = tables.kinds[column]
        if kind == "categorical":
            out[column] = pd.Categorical(
                tables.categories(frame, column), categories=categories[column]
            )
        elif kind == "datetime":
            out[column] = (
                pd.to_datetime(frame[column], errors="coerce").astype("int64").astype("float64")
                / 1e9
            )
        else:
            out[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return pd.DataFrame(out, index=frame.index)


def _fit_score(
    train: pd.DataFrame,
    test: pd.DataFrame,
    features: list[str],
    target: str,
    classify: bool,
    seed: int,
    tables: Tables,
) -> dict[str, float] | str:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import accuracy_score, f1_score, r2_score, roc_auc_score

    train = train[train[target].notna()]
    if len(train) > MAX_TRAIN_ROWS:
        train = train.sample(MAX_TRAIN_ROWS, random_state=seed)
    if len(train) < 10:
        return "fewer than 10 training rows with a target"
    categories = {
        c: sorted(
            set(tables.categories(tables.real, c)) | set(tables.categories(tables.synthetic, c))
        )
        for c in features
        if tables.kinds[c] == "categorical"
    }
    X_train, X_test = (
        _matrix(train, features, tables, categories),
        _matrix(test, features, tables, categories),
    )
    if classify:
        y_train, y_test = train[target].astype(str), test[target].astype(str)
        if y_train.nunique() < 2:
            return f"the {target} column has one class in a training table"
        model = HistGradientBoostingClassifier(
            random_state=seed, categorical_features="from_dtype", early_stopping=True
        )
        model.fit(X_train, y_train)
        predicted = model.predict(X_test)
        scores = {
            "accuracy": float(accuracy_score(y_test, predicted)),
            "f1_macro": float(f1_score(y_test, predicted, average="macro")),
        }
        if y_test.nunique() == 2 and len(model.classes_) == 2:
            scores["roc_auc"] = float(
                roc_auc_score(y_test == model.classes_[1], model.predict_proba(X_test)[:, 1])
            )
        return scores
    model = HistGradientBoostingRegressor(
        random_state=seed, categorical_features="from_dtype", early_stopping=True
    )
    model.fit(X_train, train[target].astype("float64"))
    return {"r2": float(r2_score(test[target].astype("float64"), model.predict(X_test)))}
