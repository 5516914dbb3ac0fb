"""copulas: a multivariate model's ``sample`` becomes a ``generate`` run.

``fit`` remembers the table the model learned from; ``sample`` then records a run from
that real table (role ``real``) to the synthetic one (role ``synthetic``), with the
model class, its distribution, the number of rows, the library version and the seeds
of the run around it.
"""

from __future__ import annotations

from typing import Any

from pedigree.capture.integrations._common import GeneratorPatches
from pedigree.capture.run import json_safe
from pedigree.errors import RecordError


def _describe(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    import copulas

    return {
        "library": f"copulas {copulas.__version__}",
        "num_rows": json_safe(args[0] if args else kwargs.get("num_rows")),
        "distribution": json_safe(getattr(model, "distribution", None)),
    }


_patches = GeneratorPatches(
    "copulas", _describe, fit_data=lambda args, kwargs: args[0] if args else kwargs.get("X")
)


def _classes() -> list[type]:
    from copulas.multivariate import GaussianMultivariate

    classes: list[type] = [GaussianMultivariate]
    try:
        from copulas.multivariate import VineCopula

        classes.append(VineCopula)
    except ImportError:  # older releases
        pass
    return classes


def enable(*, required: bool = False) -> bool:
    try:
        classes = _classes()
    except ImportError:
        if required:
            raise RecordError("the copulas integration needs the copulas package") from None
        return False
    _patches.enable(classes, classes)
    return True


def disable() -> None:
    _patches.disable()
