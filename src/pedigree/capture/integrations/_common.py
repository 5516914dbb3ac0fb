"""What every integration shares: recording a finished call as a run, never failing it."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pedigree.capture.objects import content_of, is_table
from pedigree.capture.run import RunContext, current_run

failures: list[str] = []
"""Why recording failed, one line per failure, most recent last."""

_inside: contextvars.ContextVar[bool] = contextvars.ContextVar("pedigree_patched", default=False)


def outermost(record: Callable[..., None]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Wrap a library method so that its outermost call (not the calls it makes to other
    patched methods, as a pipeline fitting its steps does) is passed to ``record(self,
    args, kwargs, result, started_at)`` after it returns, and recording never breaks it."""

    def decorate(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            if _inside.get():
                return method(self, *args, **kwargs)
            token = _inside.set(True)
            started = datetime.now(UTC)
            try:
                result = method(self, *args, **kwargs)
            finally:
                _inside.reset(token)
            try:
                record(self, args, kwargs, result, started)
            except Exception as exc:
                note = f"{type(self).__name__}.{method.__name__}: {type(exc).__name__}: {exc}"
                failures.append(note)
                warnings.warn(f"pedigree could not record {note}", RuntimeWarning, stacklevel=2)
            return result

        wrapper.__pedigree_original__ = method  # type: ignore[attr-defined]
        return wrapper

    return decorate


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Patched calls made inside pass straight through, unrecorded (a library's own use of
    scikit-learn, such as an evaluation's classifiers, is not the user's lineage)."""
    token = _inside.set(True)
    try:
        yield
    finally:
        _inside.reset(token)


def record_call(
    job: str,
    *,
    kind: str,
    started_at: datetime,
    inputs: Iterable[tuple[Any, str]] = (),
    outputs: Iterable[tuple[Any, str]] = (),
    parameters: dict[str, Any] | None = None,
    seeds: dict[str, int] | None = None,
) -> RunContext:
    """Record a call that already happened as a run of ``job`` (a child of the run being
    captured, if any). Unnamed tables are named ``<parent job or job>/<role>``."""
    parent = current_run()
    stem = parent.job if parent is not None else job
    with RunContext(job, kind=kind, parameters=parameters) as r:
        r.started_at = started_at
        if seeds:
            r.seeds.update(seeds)
        elif parent is not None:
            r.seeds.update(parent.seeds)
        for obj, role in inputs:
            r.use(obj, name=None if r.known(obj) else f"{stem}/{role}", role=role)
        for obj, role in outputs:
            r.produce(obj, name=None if r.known(obj) else f"{stem}/{role}", role=role)
    return r


def patch(
    cls: type, name: str, wrapper: Callable[[Callable[..., Any]], Callable[..., Any]]
) -> bool:
    """Replace ``cls.name`` (defined on ``cls`` itself) by its wrapped form, once."""
    method = cls.__dict__.get(name)
    if method is None or hasattr(method, "__pedigree_original__"):
        return False
    setattr(cls, name, wrapper(method))
    return True


def unpatch(cls: type, name: str) -> None:
    method = cls.__dict__.get(name)
    original = getattr(method, "__pedigree_original__", None)
    if original is not None:
        setattr(cls, name, original)


class GeneratorPatches:
    """The shape every synthetic-data generator integration shares: ``fit`` notes the table
    the model learned from, ``sample`` records a ``generate`` run from that table (role
    ``real``) to the sample (role ``synthetic``) with ``describe(model, args, kwargs)`` as
    parameters. What was learned is kept beside the model (a weak map), never on it, so
    its pickled state, and so its fingerprint, stays what the library made."""

    def __init__(
        self,
        library: str,
        describe: Callable[[Any, tuple[Any, ...], dict[str, Any]], dict[str, Any]],
        *,
        fit_data: Callable[[tuple[Any, ...], dict[str, Any]], Any],
        sampled: Callable[[Any], Any] = lambda result: result,
    ) -> None:
        self.library = library
        self.describe = describe
        self.fit_data = fit_data
        self.sampled = sampled
        self.learned: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self.patched: list[tuple[type, str]] = []

    def enable(self, fit_classes: Iterable[type], sample_classes: Iterable[type]) -> None:
        for cls in fit_classes:
            if patch(cls, "fit", outermost(self._remember)):
                self.patched.append((cls, "fit"))
        for cls in sample_classes:
            if patch(cls, "sample", outermost(self._record)):
                self.patched.append((cls, "sample"))

    def disable(self) -> None:
        for cls, name in self.patched:
            unpatch(cls, name)
        self.patched.clear()

    def _remember(
        self,
        model: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        result: Any,
        started: datetime,
    ) -> None:
        data = self.fit_data(args, kwargs)
        if is_table(data):
            self.learned[model] = content_of(data)

    def _record(
        self,
        model: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        result: Any,
        started: datetime,
    ) -> None:
        real = self.learned.get(model)
        synthetic = self.sampled(result)
        record_call(
            f"{self.library}/{type(model).__name__}",
            kind="generate",
            started_at=started,
            inputs=[(real, "real")] if real is not None else [],
            outputs=[(synthetic, "synthetic")] if is_table(synthetic) else [],
            parameters={
                "generator": f"{type(model).__module__}.{type(model).__qualname__}",
                **self.describe(model, args, kwargs),
            },
        )
