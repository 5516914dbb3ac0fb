"""Seeding the usual random number generators in one call, and recording the seed.

``seed(n)`` seeds Python's ``random``, NumPy's legacy global state and (only if the
program already imported it) torch, and returns a fresh NumPy ``Generator``: NumPy's
new-style Generators have no global state to seed, so code that uses them must use the
one returned (or make its own from the recorded seed).

The seeds land in the active capture run through :data:`current_seeds`, a context
variable the run sets to its own ``seeds`` dict. Context variables do not follow into
threads started with ``threading.Thread``: ``seed()`` called there is not recorded.
"""

from __future__ import annotations

import contextvars
import operator
import random
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pedigree.errors import RecordError

if TYPE_CHECKING:
    import numpy as np

SEED_LIMIT = 2**32
"""NumPy's legacy ``np.random.seed`` accepts ``0 <= n < 2**32``; so does ``seed``."""

SEED_KEYS = frozenset({"random_state", "seed", "random_seed", "rng_seed"})
"""Parameter names (any case) whose integer values are seeds."""

current_seeds: contextvars.ContextVar[dict[str, int] | None] = contextvars.ContextVar(
    "pedigree_current_seeds", default=None
)
"""The active run's seeds; ``seed()`` adds ``{"random": n, "numpy": n, "torch": n}``."""


def seed(n: int) -> np.random.Generator | None:
    """Seed ``random``, NumPy (legacy global state) and torch if imported; record ``n``.

    Returns ``numpy.random.default_rng(n)`` (``None`` without NumPy): the global seed
    does not reach NumPy Generators, so pass this one to code that takes an ``rng``.
    """
    n = _checked(n)
    seeded: dict[str, int] = {}
    random.seed(n)
    seeded["random"] = n
    generator = None
    try:
        import numpy
    except ImportError:
        numpy = None  # type: ignore[assignment]
    if numpy is not None:
        numpy.random.seed(n)
        generator = numpy.random.default_rng(n)
        seeded["numpy"] = n
    torch = sys.modules.get("torch")  # never imported here: that takes seconds
    if torch is not None and hasattr(torch, "manual_seed"):
        torch.manual_seed(n)
        cuda = getattr(torch, "cuda", None)
        if cuda is not None and cuda.is_available():
            cuda.manual_seed_all(n)  # lazy: does not initialise CUDA by itself
        seeded["torch"] = n
    recorded = current_seeds.get()
    if recorded is not None:
        recorded.update(seeded)
    return generator


def _checked(n: object) -> int:
    if isinstance(n, bool):
        raise RecordError(f"a seed must be an integer, not {n!r}")
    try:
        value = operator.index(n)  # int and NumPy integers; not floats or strings
    except TypeError:
        raise RecordError(f"a seed must be an integer, not {n!r}") from None
    if not 0 <= value < SEED_LIMIT:
        raise RecordError(f"a seed must be between 0 and 2**32 - 1, got {value}")
    return value


def seeds_in(parameters: Mapping[str, object]) -> dict[str, int]:
    """Integer seeds among ``parameters``, keyed by their dotted path.

    ``{"model": {"random_state": 3}, "steps": [{"seed": 4}]}`` gives
    ``{"model.random_state": 3, "steps.0.seed": 4}``. Booleans, ``None`` and
    non-integers (a ``RandomState`` object, say) are not seeds.
    """
    found: dict[str, int] = {}
    _collect(parameters, "", found)
    return found


def _collect(value: object, path: str, found: dict[str, int]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if str(key).lower() in SEED_KEYS and _is_integer(item):
                found[where] = operator.index(item)  # type: ignore[call-overload]
            else:
                _collect(item, where, found)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        for index, item in enumerate(value):
            _collect(item, f"{path}.{index}" if path else str(index), found)


def _is_integer(value: object) -> bool:
    if isinstance(value, bool) or value is None:
        return False
    try:
        operator.index(value)
    except TypeError:
        return False
    return True
