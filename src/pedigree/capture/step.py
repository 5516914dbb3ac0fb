"""``@pedigree.step``: a function becomes a captured run each time it is called.

Table and path arguments are recorded as inputs, returned tables (or a tuple of them)
as outputs, and scalar arguments as parameters. A table that an earlier step produced
keeps the name it was produced under; otherwise inputs are named ``<job>/<argument>``
and outputs ``<job>/output`` (``<job>/output_<i>`` for a tuple), unless ``outputs``
names them.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pedigree.capture.objects import is_path, is_table
from pedigree.capture.run import RunContext, run

F = TypeVar("F", bound=Callable[..., Any])

SCALARS = (bool, int, float, str, type(None))


def step(
    job: str | None = None,
    *,
    kind: str = "transform",
    intent: str | None = None,
    expect: str | Sequence[str] | None = None,
    namespace: str | None = None,
    outputs: Sequence[str] | str | None = None,
) -> Callable[[F], F]:
    """Decorate a pipeline function; ``job`` defaults to its qualified name."""
    names = [outputs] if isinstance(outputs, str) else list(outputs or [])

    def decorate(func: F) -> F:
        job_name = job or f"{func.__module__}.{func.__qualname__}"
        signature = inspect.signature(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            with run(job_name, kind=kind, intent=intent, expect=expect, namespace=namespace) as r:
                for arg, value in bound.arguments.items():
                    _capture_argument(r, job_name, arg, value)
                result = func(*args, **kwargs)
                results = result if isinstance(result, tuple) else (result,)
                tables = [value for value in results if is_table(value)]
                for index, value in enumerate(tables):
                    if index < len(names):
                        name = names[index]
                    else:
                        name = f"{job_name}/output" + (f"_{index}" if len(tables) > 1 else "")
                    r.produce(value, name=name)
                return result

        return wrapper  # type: ignore[return-value]

    return decorate


def _capture_argument(r: RunContext, job: str, arg: str, value: Any) -> None:
    if is_table(value):
        r.use(value, name=None if r.known(value) else f"{job}/{arg}")
    elif is_path(value) and not isinstance(value, str):
        r.use(value)
    elif isinstance(value, SCALARS) or (
        isinstance(value, (list, tuple)) and all(isinstance(v, SCALARS) for v in value)
    ):
        r.param(arg, value)


__all__ = ["step"]
