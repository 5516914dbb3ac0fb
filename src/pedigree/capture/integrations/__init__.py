"""Integrations: record what a library did, with no code beyond ``enable``.

``pedigree.integrations.enable("sklearn", "copulas")`` patches the library in this
process. A patched call returns exactly what it returned before; if recording fails,
the call still succeeds, a ``RuntimeWarning`` says why, and the failure is kept in
``failures`` so a test or a pipeline can check it.
"""

from __future__ import annotations

import importlib

from pedigree.capture.integrations._common import failures, paused
from pedigree.errors import RecordError

AVAILABLE = ("sklearn", "copulas", "sdv")


def enable(*names: str) -> list[str]:
    """Patch the named libraries (all installed ones when none are named); returns those
    enabled."""
    enabled = []
    for name in names or AVAILABLE:
        if name not in AVAILABLE:
            raise RecordError(f"unknown integration {name!r}; available: {', '.join(AVAILABLE)}")
        module = importlib.import_module(f"pedigree.capture.integrations.{name}")
        if module.enable(required=bool(names)):
            enabled.append(name)
    return enabled


def disable(*names: str) -> None:
    """Undo ``enable`` (restores the original methods)."""
    for name in names or AVAILABLE:
        importlib.import_module(f"pedigree.capture.integrations.{name}").disable()


__all__ = ["AVAILABLE", "disable", "enable", "failures", "paused"]
