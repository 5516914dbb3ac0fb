"""Evaluations and expectation checks, recorded as lineage.

``evaluate`` measures a synthetic table against the real one and records an ``evaluate``
run that used them (real, synthetic and hold-out versions, parameters, seeds, library
versions), an ``evaluation`` annotation on the synthetic version, and an ``expectations``
annotation on the run that generated it when that run stated expectations: did the step
do what it said it was for? The run and its annotations are one atomic append.

Inputs are files, in-memory tables, or references to recorded versions
(``synthetic/turnout``, ``demo:synthetic/turnout@ptf1:…``), read from the file their
record points at and checked against their recorded fingerprint first.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pandas as pd

from pedigree.capture import current_ledger, run
from pedigree.capture.objects import content_of
from pedigree.errors import EvaluationError, NotFoundError
from pedigree.evaluate.evaluation import FAMILIES, Evaluation, Progress, compare, compute
from pedigree.evaluate.expectations import Outcome, check
from pedigree.evaluate.tables import TABLE_SUFFIXES, load_table
from pedigree.evaluate.thresholds import resolve_thresholds
from pedigree.model import Annotation, DatasetVersion, Run, VersionRef
from pedigree.store import Ledger


@dataclass
class Input:
    """One table of an evaluation: what to read, and the recorded version it is, if any."""

    data: Any
    ref: VersionRef | None = None

    def frame(self, what: str) -> pd.DataFrame:
        return load_table(self.data, what=what)


def resolve_input(obj: Any, ledger: Ledger | None, what: str) -> Input:
    """A file or table as given, or a reference to a recorded version (its file, checked
    against its fingerprint)."""
    if not isinstance(obj, str) or os.path.exists(obj):
        if isinstance(obj, str | os.PathLike) and not os.path.exists(obj):
            raise EvaluationError(f"the {what} {os.fspath(obj)} does not exist")
        return Input(obj)
    if ledger is None:
        raise EvaluationError(
            f"the {what} {obj} is neither a file nor (with no store) a recorded version"
        )
    try:
        selection = ledger.resolve(obj)
    except NotFoundError as exc:
        raise EvaluationError(
            f"the {what} {obj} is neither a file nor a recorded version ({exc})"
        ) from None
    if selection.type not in ("dataset", "dataset_version"):
        raise EvaluationError(
            f"the {what} {obj} is a {selection.type.replace('_', ' ')}, not a dataset"
        )
    body = ledger.entry(max(selection.node_ids)).body
    assert isinstance(body, DatasetVersion)
    path = local_copy(ledger, body)
    if path is None:
        raise EvaluationError(
            f"no readable file of the recorded {what} {body.ref()} (uri: {body.uri})"
        )
    if content_of(path).version != body.version:
        raise EvaluationError(f"{path} has changed since it was recorded as {body.ref()}")
    return Input(path, body.ref())


def local_copy(ledger: Ledger, body: DatasetVersion) -> Path | None:
    """A readable local file or directory holding this version: its own ``uri``, else the
    newest ``location`` annotation that still exists."""
    uris = [body.uri]
    try:
        details = ledger.show(f"{body.namespace}:{body.name}@{body.version}")
        uris += [
            a.body.body.get("uri")
            for a in reversed(details.annotations)
            if a.body.kind == "location"
        ]
    except NotFoundError:
        pass
    for uri in uris:
        if not isinstance(uri, str) or not uri.startswith("file:"):
            continue
        path = Path(unquote(urlparse(uri).path))
        if path.is_dir() or (path.is_file() and path.suffix.lower() in TABLE_SUFFIXES):
            return path
    return None


def evaluate(
    synthetic: Any,
    real: Any,
    holdout: Any = None,
    *,
    target: str | None = None,
    sensitive: Iterable[str] = (),
    families: Iterable[str] = FAMILIES,
    thresholds: Mapping[str, float] | None = None,
    seed: int = 0,
    engines: Iterable[str] = (),
    record: bool = True,
    ledger: Ledger | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate ``synthetic`` against ``real`` (and a real ``holdout``) and, unless
    ``record=False``, record the run, the evaluation and the expectation checks."""
    if record and ledger is None:
        ledger = current_ledger()
    inputs = {
        "synthetic": resolve_input(synthetic, ledger, "synthetic table"),
        "real": resolve_input(real, ledger, "real table"),
    }
    if holdout is not None:
        inputs["holdout"] = resolve_input(holdout, ledger, "hold-out table")
    frames = {role: item.frame(f"{role} table") for role, item in inputs.items()}
    syn_ref = inputs["synthetic"].ref
    if ledger is not None and syn_ref is None:
        syn_ref = _recorded_as(ledger, inputs["synthetic"].data)
    intended = (
        _latest_annotation(ledger, syn_ref, "intended_use", on="this")
        if ledger and syn_ref
        else None
    )
    chosen, source = resolve_thresholds(intended.body if intended else None, thresholds)
    evaluation = compute(
        frames["synthetic"],
        frames["real"],
        frames.get("holdout"),
        target=target,
        sensitive=sensitive,
        families=families,
        thresholds=chosen,
        seed=seed,
        engines=engines,
        progress=progress,
    )
    evaluation.threshold_source = source
    if not record:
        return evaluation
    assert ledger is not None
    body = evaluation.to_json()
    previous = _latest_annotation(ledger, syn_ref, "evaluation", on="other") if syn_ref else None
    if previous is not None:
        body["compared_to"] = {
            "version": previous.target.version,
            "annotation_id": str(previous.annotation_id),
            "changes": compare(evaluation, Evaluation.from_json(previous.body)),
        }
    name = syn_ref.name if syn_ref else "synthetic"
    with run(
        f"evaluate/{name}",
        kind="evaluate",
        namespace=syn_ref.namespace if syn_ref else None,
        intent=f"measure the fidelity, privacy risk, fairness and utility of {name}",
        ledger=ledger,
    ) as evaluating:
        for role, item in inputs.items():
            ref = item.ref or (syn_ref if role == "synthetic" else _recorded_as(ledger, item.data))
            data = item.data if not isinstance(item.data, pd.DataFrame) else frames[role]
            evaluating.use(
                data,
                name=ref.name
                if ref
                else (None if isinstance(data, str | os.PathLike) else f"evaluate/{name}/{role}"),
                namespace=ref.namespace if ref else None,
                role=role,
            )
            if role == "synthetic":
                syn_ref = ref or evaluating.inputs[-1][0]
        evaluating.param(**{k: v for k, v in evaluation.parameters.items() if k != "columns"})
        evaluating.param(thresholds=chosen, threshold_source=source)
        assert syn_ref is not None
        evaluating.annotate(syn_ref, "evaluation", body)
        for generator in _generating_runs(ledger, syn_ref):
            outcomes = check_run(
                ledger, generator, measurements=evaluation.measurements(), table=frames["synthetic"]
            )
            if outcomes:
                evaluating.annotate(generator.target(), "expectations", expectations_body(outcomes))
                evaluation.expectations[run_label(generator)] = outcomes
    return evaluation


def _recorded_as(ledger: Ledger, data: Any) -> VersionRef | None:
    """The recorded dataset this content already is, if any (newest first)."""
    try:
        version = content_of(data).version
    except Exception:
        return None
    named = ledger.versions_named(version)
    return named[0] if named else None


def _latest_annotation(ledger: Ledger | None, ref: VersionRef | None, kind: str, *, on: str) -> Any:
    """The newest annotation of ``kind`` about the dataset of ``ref``: ``on="this"`` — on
    this version or the dataset as a whole; ``on="version"`` — on this version only;
    ``on="other"`` — on another version (what a new evaluation is compared with)."""
    if ledger is None or ref is None:
        return None
    try:
        details = ledger.show(f"{ref.namespace}:{ref.name}")
    except NotFoundError:
        return None
    found: tuple[int, Any] | None = None
    for entry in details.annotations:
        body = entry.body
        if body.kind != kind:
            continue
        this = body.target.type == "version" and body.target.version == ref.version
        dataset_wide = body.target.type == "dataset"
        wanted = {
            "this": this or dataset_wide,
            "version": this,
            "other": not this and not dataset_wide,
        }[on]
        if wanted and (found is None or entry.seq > found[0]):
            found = (entry.seq, body)
    return None if found is None else found[1]


def _generating_runs(ledger: Ledger, ref: VersionRef) -> list[Run]:
    try:
        details = ledger.show(f"{ref.namespace}:{ref.name}@{ref.version}")
    except NotFoundError:
        return []
    runs = []
    for edge, node in details.upstream:
        if node.type == "run" and edge.kind == "generated" and node.run_id:
            body = ledger.show(f"run:{node.run_id}").current
            if body is not None and isinstance(body.body, Run):
                runs.append(body.body)
    return runs


def check_run(
    ledger: Ledger,
    record: Run,
    *,
    measurements: Mapping[str, Any] | None = None,
    table: pd.DataFrame | None = None,
) -> list[Outcome]:
    """Check a run's intent expectations against its recorded metrics, the evaluations of
    its outputs (``measurements``) and its first tabular output."""
    if record.intent is None or not record.intent.expect:
        return []
    known: dict[str, Any] = {}
    metrics = record.facets.get("metrics")
    if isinstance(metrics, dict):
        known.update(metrics)
    if table is None:
        table = _output_table(ledger, record)
    for output in record.outputs:
        evaluation = _latest_annotation(ledger, output.ref(), "evaluation", on="version")
        if evaluation is not None:
            known.update(Evaluation.from_json(evaluation.body).measurements())
    known.update(measurements or {})
    return [check(text, measurements=known, table=table) for text in record.intent.expect]


def _output_table(ledger: Ledger, record: Run) -> pd.DataFrame | None:
    for output in record.outputs:
        try:
            body = ledger.show(f"{output.namespace}:{output.name}@{output.version}").current
        except NotFoundError:
            continue
        if body is not None and isinstance(body.body, DatasetVersion):
            path = local_copy(ledger, body.body)
            if path is not None:
                return load_table(path, what="output")
    return None


def run_label(record: Run) -> str:
    return f"{record.job.name} #{str(record.run_id)[:8]}"


def expectations_body(outcomes: list[Outcome]) -> dict[str, Any]:
    statuses = {o.status for o in outcomes}
    held = False if "violated" in statuses else (None if "unknown" in statuses else True)
    return {"held": held, "results": [o.to_json() for o in outcomes]}


def check_expectations(
    ref: str | None = None, *, ledger: Ledger | None = None
) -> dict[str, list[Outcome]]:
    """Check (and record) the expectations of one run (``run:ID`` or a job's latest run),
    or of every run that states expectations and has no check yet; returns them by run."""
    ledger = ledger or current_ledger()
    if ref is not None:
        selection = ledger.resolve(ref)
        if selection.type not in ("run", "job"):
            raise EvaluationError(f"{ref} is a {selection.type.replace('_', ' ')}, not a run")
        candidates = [ledger.entry(max(selection.node_ids)).body]
    else:
        candidates = _unchecked_runs(ledger)
    results: dict[str, list[Outcome]] = {}
    annotations = []
    for record in candidates:
        assert isinstance(record, Run)
        outcomes = check_run(ledger, record)
        if outcomes:
            results[run_label(record)] = outcomes
            annotations.append(
                Annotation(
                    target=record.target(), kind="expectations", body=expectations_body(outcomes)
                )
            )
    if annotations:
        ledger.append_many(annotations)
    return results


def _unchecked_runs(ledger: Ledger) -> list[Run]:
    latest: dict[str, Run] = {}
    checked: set[str] = set()
    for entry in ledger.entries(types=["run", "annotation"]):  # not the whole log
        body = entry.body
        if (
            isinstance(body, Run)
            and body.status == "completed"
            and body.intent
            and body.intent.expect
        ):
            latest[str(body.run_id)] = body
        elif isinstance(body, Annotation) and body.kind == "expectations":
            checked.add(str(body.target.id))
    return [r for run_id, r in latest.items() if run_id not in checked]
