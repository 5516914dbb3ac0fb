"""``pedigree.run``: record one execution of a job as it happens.

A run collects what the block used and produced, its parameters, seeds, metrics, code
and environment, and appends it all in one atomic ``append_many`` when the block ends:
the versions not yet in the ledger, then the run record. A run that fails records
``failed`` with the error and lets the exception through. A run started inside another
is its child; the parent is first written as ``running`` so the child can refer to it,
and its final record supersedes that one.
"""

from __future__ import annotations

import contextvars
import dataclasses
import math
import os
import uuid
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from pedigree.capture.code import code_reference
from pedigree.capture.confidential import Confidential
from pedigree.capture.delivery import Batch, current_destination, deliver
from pedigree.capture.environment import environment
from pedigree.capture.objects import Content, content_of, is_path, write
from pedigree.capture.seeds import current_seeds, seeds_in
from pedigree.errors import PedigreeError, RecordError
from pedigree.fingerprint import file_fingerprint
from pedigree.ledger.commitments import Disclosure
from pedigree.model import (
    DEFAULT_NAMESPACE,
    Annotation,
    CodeRef,
    Column,
    DatasetVersion,
    EntityVersion,
    Environment,
    FileDigest,
    Intent,
    ModelVersion,
    RunIO,
    Target,
    VersionRef,
)
from pedigree.model import Run as RunRecord
from pedigree.store import Ledger

if TYPE_CHECKING:
    from pedigree.capture.remote import RemoteLedger

_current: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar(
    "pedigree_run", default=None
)
_known: dict[tuple[str, str], VersionRef] = {}
"""The last name each content version was used or produced under in each ledger (by log
id) in this process, so a table handed from one step to the next keeps its name."""

ERROR_LIMIT = 4_000


def current_run() -> RunContext | None:
    """The innermost run being captured in this context, if any."""
    return _current.get()


def run(
    job: str,
    *,
    kind: str = "transform",
    intent: str | None = None,
    expect: str | Sequence[str] | None = None,
    namespace: str | None = None,
    parameters: Mapping[str, Any] | None = None,
    ledger: Ledger | None = None,
) -> RunContext:
    """Capture a block as one run of ``job``: ``with pedigree.run(...) as run: ...``.

    ``kind`` says what sort of step it is (``generate``, ``mask``, ``train``…), ``intent``
    why it exists and ``expect`` checkable statements about its outputs. ``namespace``
    defaults to the parent run's, else ``default``.
    """
    return RunContext(
        job,
        kind=kind,
        intent=intent,
        expect=expect,
        namespace=namespace,
        parameters=parameters,
        ledger=ledger,
    )


class RunContext:
    """A run being captured; use it as a context manager."""

    def __init__(
        self,
        job: str,
        *,
        kind: str = "transform",
        intent: str | None = None,
        expect: str | Sequence[str] | None = None,
        namespace: str | None = None,
        parameters: Mapping[str, Any] | None = None,
        ledger: Ledger | RemoteLedger | None = None,
    ) -> None:
        expectations = [expect] if isinstance(expect, str) else list(expect or [])
        self.job = job
        self.kind = kind
        self.intent = Intent(text=intent, expect=expectations) if intent or expectations else None
        self.run_id = uuid.uuid4()
        self.namespace = namespace
        self.parameters: dict[str, Any] = {}
        self.seeds: dict[str, int] = {}
        self.metrics: dict[str, Any] = {}
        self.inputs: list[tuple[VersionRef, str | None, Content]] = []
        self.outputs: list[tuple[VersionRef, str | None, Content]] = []
        self.annotations: list[Annotation] = []
        self.disclosures: list[Disclosure] = []
        self.parent: RunContext | None = None
        self.started_at: datetime | None = None
        self.status = "running"
        self.error: str | None = None
        self._ledger = ledger
        self._written = False
        self._tokens: list[tuple[contextvars.ContextVar[Any], contextvars.Token[Any]]] = []
        self._code: CodeRef | None = None
        self._environment: Environment | None = None
        if parameters:
            self.param(**parameters)

    # --- the block --------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.parent = _current.get()
        if self.namespace is None:
            self.namespace = self.parent.namespace if self.parent else DEFAULT_NAMESPACE
        if self._ledger is None:
            self._ledger = self.parent.ledger if self.parent else current_destination()
        self._code = code_reference()
        full = environment()
        self._environment = (
            full
            if self.parent is None
            else Environment(python=full.python, os=full.os, packages_digest=full.packages_digest)
        )
        if self.parent is not None:
            self.parent._write_running()
        self.started_at = datetime.now(UTC)
        self._tokens = [
            (_current, _current.set(self)),
            (current_seeds, current_seeds.set(self.seeds)),
        ]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for var, token in reversed(self._tokens):
            var.reset(token)
        if exc is None:
            self.status = "completed"
        else:
            self.status = "failed" if isinstance(exc, Exception) else "aborted"
            self.error = f"{type(exc).__name__}: {exc}"[:ERROR_LIMIT]
        try:
            self._write(ended_at=datetime.now(UTC))
        except PedigreeError as failure:
            if exc is None:
                raise
            # The block's own exception matters more; say why the run went unrecorded.
            warnings.warn(
                f"pedigree: run {self.job} could not be recorded: {failure}",
                RuntimeWarning,
                stacklevel=2,
            )

    @property
    def ledger(self) -> Ledger | RemoteLedger:
        if self._ledger is None:
            raise RecordError("the run has not started: use it as `with pedigree.run(...):`")
        return self._ledger

    # --- what the block reports -------------------------------------------------------------

    def use(
        self,
        obj: Any,
        *,
        name: str | None = None,
        namespace: str | None = None,
        role: str | None = None,
        version: str | None = None,
        confidential: bool = False,
    ) -> Any:
        """Record ``obj`` (table, path or model) as an input; returns ``obj`` unchanged.

        ``confidential=True`` records its fingerprint and location only as salted
        commitments (a source that must not be identifiable from the record).
        """
        content = self._confidential(content_of(obj)) if confidential else content_of(obj)
        self.inputs.append((self._ref(obj, content, name, namespace, version), role, content))
        return obj

    def produce(
        self,
        obj: Any,
        *,
        name: str | None = None,
        namespace: str | None = None,
        path: str | os.PathLike[str] | None = None,
        role: str | None = None,
        version: str | None = None,
        confidential: bool = False,
    ) -> Any:
        """Record ``obj`` as an output; returns ``obj`` unchanged.

        With ``path``, a table is written there (format from the extension: Parquet, CSV,
        Arrow, JSON Lines) and a model is pickled, and the file's digest is recorded too.
        ``confidential=True`` records content and location only as commitments.
        """
        if path is not None and not is_path(obj) and not _same_path(obj, path):
            content = content_of(obj)
            target = Path(path)
            write(obj, target)
            digest = file_fingerprint(target)
            content = dataclasses.replace(
                content, files=((target.name, digest),), uri=target.resolve().as_uri()
            )
        else:
            content = content_of(path if path is not None else obj)
        if confidential:
            content = self._confidential(content)
        self.outputs.append((self._ref(obj, content, name, namespace, version), role, content))
        return obj

    def param(self, name: str | None = None, value: Any = None, /, **more: Any) -> None:
        """Record parameters: ``run.param("epochs", 10)`` or ``run.param(epochs=10, lr=0.1)``.

        Integer values of ``seed``/``random_state``-like keys are recorded as seeds too.
        """
        values = dict(more)
        if name is not None:
            values[name] = value
        cleaned = {key: self._safe(item) for key, item in values.items()}
        self.parameters.update(cleaned)
        self.seeds.update(seeds_in(cleaned))

    def annotate(self, target: VersionRef | Target, kind: str, body: dict[str, Any]) -> Annotation:
        """Attach a fact (an evaluation, a tag…) to a version or run; it is appended with
        the run, in the same atomic write, so the two are never recorded apart."""
        about = target.target() if isinstance(target, VersionRef) else target
        annotation = Annotation(target=about, kind=kind, body=self._safe(body))
        self.annotations.append(annotation)
        return annotation

    def metric(self, name: str, value: Any) -> None:
        """Record a result of the run (accuracy, rows dropped…), kept in its ``metrics``."""
        self.metrics[name] = self._safe(value)

    # --- confidential values ----------------------------------------------------------------

    def _commit(self, value: Any) -> str:
        disclosure = self.ledger.commit(value)
        self.disclosures.append(disclosure)
        return disclosure.commitment

    def _safe(self, value: Any) -> Any:
        """``json_safe``, with each ``pedigree.confidential`` value replaced by its commitment."""
        return json_safe(value, commit=self._commit)

    def _confidential(self, content: Content) -> Content:
        """The content as it is recorded when confidential: commitments to its identity and
        location, nothing else (no columns, no file digests, no row count)."""
        identity = {
            "fingerprint": content.fingerprint or content.version,
            "files": [{"path": p, "sha256": d.sha256, "size": d.size} for p, d in content.files],
        }
        committed = self._commit(identity)
        return Content(
            kind=content.kind,
            version=committed,
            fingerprint=committed,
            uri=self._commit(content.uri) if content.uri else None,
            facets={"confidential": True},
        )

    # --- recording --------------------------------------------------------------------------

    def _ref(
        self,
        obj: Any,
        content: Content,
        name: str | None,
        namespace: str | None,
        version: str | None,
    ) -> VersionRef:
        version = version or content.version
        if name is None:
            known = self.known(version)
            if known is not None and namespace in (None, known.namespace):
                return known
            if is_path(obj):
                namespace, name = namespace or "file", str(Path(os.fspath(obj)).resolve())
            else:
                raise RecordError(
                    f"name the {content.kind} this run {self.job!r} records: "
                    "run.use(obj, name=...) / run.produce(obj, name=...)"
                )
        ref = VersionRef(
            namespace=namespace or self.namespace or DEFAULT_NAMESPACE, name=name, version=version
        )
        _known[(self.ledger.log_id, version)] = ref
        return ref

    def known(self, obj: Any) -> VersionRef | None:
        """The name ``obj`` (or a version id) was last recorded under in this ledger."""
        version = obj if isinstance(obj, str) else content_of(obj).version
        return _known.get((self.ledger.log_id, version))

    def _record(self, ended_at: datetime | None) -> RunRecord:
        facets: dict[str, Any] = {}
        if self.metrics:
            facets["metrics"] = self.metrics
        return RunRecord(
            run_id=self.run_id,
            job={"namespace": self.namespace, "name": self.job},
            kind=self.kind,
            status=self.status,
            intent=self.intent,
            parameters=self.parameters,
            seeds=self.seeds,
            code=self._code,
            environment=self._environment,
            started_at=self.started_at,
            ended_at=ended_at,
            inputs=_io(self.inputs),
            outputs=_io(self.outputs),
            parent_run_id=self.parent.run_id if self.parent else None,
            error=self.error,
            facets=facets,
        )

    def _write_running(self) -> None:
        """Write the run as ``running`` once, so that children can name it as parent."""
        if not self._written:
            self._write(ended_at=None)

    def _write(self, *, ended_at: datetime | None) -> None:
        versions: dict[VersionRef, EntityVersion] = {}
        locations: list[Annotation] = []
        if ended_at is not None:
            for ref, _, content in (*self.inputs, *self.outputs):
                versions.setdefault(ref, version_record(ref, content))
            locations = [location(ref, content) for ref, _, content in self.outputs if content.uri]
        deliver(
            self.ledger,
            Batch(
                versions=list(versions.values()),
                locations=locations,
                run=self._record(ended_at),
                annotations=self.annotations if ended_at is not None else [],
                disclosures=list(self.disclosures),
            ),
        )
        self._written = True


def version_record(ref: VersionRef, content: Content) -> DatasetVersion | ModelVersion:
    """The dataset or model version record of ``content`` under the name in ``ref``."""
    common: dict[str, Any] = {
        "namespace": ref.namespace,
        "name": ref.name,
        "version": ref.version,
        "fingerprint": content.fingerprint,
        "files": [
            FileDigest(path=path, sha256=digest.sha256, size=digest.size)
            for path, digest in content.files
        ],
        "uri": content.uri,
        "facets": content.facets,
    }
    if content.kind == "model":
        return ModelVersion(**common, framework=content.framework, model_class=content.model_class)
    return DatasetVersion(
        **common,
        row_count=content.rows,
        columns=[Column(name=name, type=kind) for name, kind in content.columns],
    )


def location(ref: VersionRef, content: Content) -> Annotation:
    """Where a copy of an already-recorded version was written: a version is its content,
    and the files holding it are facts attached to it (``kind="location"``)."""
    files = [{"path": p, "sha256": d.sha256, "size": d.size} for p, d in content.files]
    return Annotation(
        target=ref.target(), kind="location", body={"uri": content.uri, "files": files}
    )


def json_safe(value: Any, *, commit: Callable[[Any], str] | None = None) -> Any:
    """A JSON value for a parameter or metric: NumPy scalars become numbers, paths and
    other objects their text; NaN and infinities (not JSON) become text too. A
    ``pedigree.confidential`` value becomes ``commit(value)`` (refused without ``commit``)."""
    if isinstance(value, Confidential):
        if commit is None:
            raise RecordError("a confidential value can only be recorded inside a run")
        return commit(json_safe(value.value))
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item, commit=commit) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        return [json_safe(item, commit=commit) for item in items]
    item = getattr(value, "item", None)  # NumPy scalars
    if callable(item) and getattr(value, "shape", None) == ():
        return json_safe(item())
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)


def _io(items: list[tuple[VersionRef, str | None, Content]]) -> list[RunIO]:
    seen: dict[tuple[VersionRef, str | None], RunIO] = {}
    for ref, role, _ in items:
        seen.setdefault((ref, role), RunIO(**ref.model_dump(), role=role))
    return list(seen.values())


def _same_path(obj: Any, path: str | os.PathLike[str]) -> bool:
    return isinstance(obj, (str, os.PathLike)) and Path(obj) == Path(path)


__all__ = ["RunContext", "current_run", "json_safe", "run", "version_record"]
