"""Capture SDK: record runs, their inputs and outputs, as a pipeline runs.

The public names are re-exported by ``pedigree`` itself: ``pedigree.run``,
``pedigree.step``, ``pedigree.seed``, ``pedigree.configure``, ``pedigree.integrations``.
"""

from pedigree.capture import integrations
from pedigree.capture.delivery import configure, current_ledger
from pedigree.capture.run import RunContext, current_run, run
from pedigree.capture.seeds import seed
from pedigree.capture.step import step

__all__ = [
    "RunContext",
    "configure",
    "current_ledger",
    "current_run",
    "integrations",
    "run",
    "seed",
    "step",
]
