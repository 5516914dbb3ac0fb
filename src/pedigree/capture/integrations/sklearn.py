"""scikit-learn: every outermost ``fit`` becomes a ``train`` run.

The run records the estimator class and ``get_params()``, the training table (and the
target, when given) as inputs with their fingerprints, and the fitted model, identified
by the digest of its pickled state, as output. Estimator classes defined after
``enable`` (imported later) are patched as they are created.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pedigree.capture.integrations._common import outermost, patch, record_call, unpatch
from pedigree.capture.objects import is_table
from pedigree.capture.run import json_safe
from pedigree.errors import RecordError

_patched: list[type] = []
_hooked: list[Any] = []


def enable(*, required: bool = False) -> bool:
    try:
        from sklearn.base import BaseEstimator
    except ImportError:
        if required:
            raise RecordError("the sklearn integration needs scikit-learn installed") from None
        return False
    for cls in _subclasses(BaseEstimator):
        _patch(cls)
    if not _hooked:
        original = BaseEstimator.__dict__.get("__init_subclass__")

        def hook(cls: type, **kwargs: Any) -> None:
            if original is not None:
                original.__func__(cls, **kwargs)
            else:
                super(BaseEstimator, cls).__init_subclass__(**kwargs)
            _patch(cls)

        BaseEstimator.__init_subclass__ = classmethod(hook)  # type: ignore[assignment]
        _hooked.append(original)
    return True


def disable() -> None:
    for cls in _patched:
        unpatch(cls, "fit")
    _patched.clear()
    if _hooked:
        from sklearn.base import BaseEstimator

        original = _hooked.pop()
        if original is None:
            del BaseEstimator.__init_subclass__
        else:
            BaseEstimator.__init_subclass__ = original  # type: ignore[assignment]


def _subclasses(cls: type) -> list[type]:
    found, todo = [], [cls]
    while todo:
        klass = todo.pop()
        found.append(klass)
        todo.extend(klass.__subclasses__())
    return found


def _patch(cls: type) -> None:
    if patch(cls, "fit", outermost(_record_fit)):
        _patched.append(cls)


def _record_fit(
    estimator: Any, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any, started: datetime
) -> None:
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    inputs = [
        (table, role)
        for table, role in ((_table(X, "x"), "training"), (_table(y, "y"), "target"))
        if table is not None
    ]
    name = type(estimator).__name__
    params = json_safe(estimator.get_params(deep=False))
    record_call(
        f"sklearn/{name}",
        kind="train",
        started_at=started,
        inputs=inputs,
        outputs=[(estimator, "model")],
        parameters={
            "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
            **params,
        },
    )


def _table(value: Any, stem: str) -> Any:
    """The table form of a fit argument: tables as they are, NumPy arrays as a DataFrame
    with columns ``x0, x1…`` (or one column ``y``); anything else is not recorded."""
    if value is None or is_table(value):
        return value
    shape = getattr(value, "shape", None)
    if shape is None or len(shape) not in (1, 2):
        return None
    import pandas as pd

    if len(shape) == 1:
        return pd.DataFrame({stem: value})
    return pd.DataFrame(value, columns=[f"{stem}{i}" for i in range(shape[1])])
