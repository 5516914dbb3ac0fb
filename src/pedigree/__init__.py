"""Pedigree: a provenance ledger for synthetic data and the AI pipelines around it.

``import pedigree`` stays cheap: the capture SDK (``pedigree.run``, ``step``, ``seed``,
``configure``, ``integrations``, ``confidential``) and ``pedigree.evaluate(...)`` are loaded on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_CAPTURE = (
    "RunContext",
    "confidential",
    "configure",
    "current_run",
    "integrations",
    "run",
    "seed",
    "step",
)


def __getattr__(name: str) -> Any:
    if name in _CAPTURE:
        from pedigree import capture

        return getattr(capture, name)
    if name == "verify":  # offline certificate verification: pedigree.verify(bundle, trust)
        from pedigree.certify.verify import verify

        return verify
    if name == "evaluate":  # the package is callable: pedigree.evaluate(synthetic, real, …)
        import pedigree.evaluate

        return pedigree.evaluate
    raise AttributeError(f"module 'pedigree' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_CAPTURE, "evaluate", "verify"])


__all__ = ["__version__", *_CAPTURE, "evaluate", "verify"]
