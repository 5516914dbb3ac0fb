"""SDV (optional extra ``datapedigree[sdv]``): a single-table synthesizer's ``sample``
becomes a ``generate`` run.

``fit`` remembers the table the synthesizer learned from; ``sample`` records a run from it
(role ``real``) to the sample (role ``synthetic``) with the synthesizer class, its
``get_parameters()``, its metadata, the SDV version and the seeds of the run around it.
The copulas or CTGAN calls SDV makes inside are not recorded separately.
"""

from __future__ import annotations

from typing import Any

from pedigree.capture.integrations._common import GeneratorPatches
from pedigree.capture.run import json_safe
from pedigree.errors import RecordError


def _describe(model: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    import sdv

    metadata = model.get_metadata()
    return {
        "library": f"sdv {sdv.__version__}",
        "num_rows": json_safe(args[0] if args else kwargs.get("num_rows")),
        "synthesizer_parameters": json_safe(model.get_parameters()),
        "metadata": json_safe(metadata.to_dict() if hasattr(metadata, "to_dict") else metadata),
    }


def _single(data: Any) -> Any:
    """SDV 2 takes and returns ``{table name: frame}`` even for one table."""
    if isinstance(data, dict) and len(data) == 1:
        return next(iter(data.values()))
    return data


_patches = GeneratorPatches(
    "sdv",
    _describe,
    fit_data=lambda args, kwargs: _single(args[0] if args else kwargs.get("data")),
    sampled=_single,
)


def enable(*, required: bool = False) -> bool:
    try:
        from sdv.single_table.base import BaseSingleTableSynthesizer, BaseSynthesizer
    except ImportError:
        if required:
            raise RecordError(
                "the sdv integration needs SDV installed (pip install 'datapedigree[sdv]')"
            ) from None
        return False
    _patches.enable([BaseSynthesizer], [BaseSingleTableSynthesizer])
    return True


def disable() -> None:
    _patches.disable()
