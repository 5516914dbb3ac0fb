"""Capture SDK: record runs, their inputs and outputs, as a pipeline runs.

The public names are re-exported by ``pedigree`` itself: ``pedigree.run``,
``pedigree.step``, ``pedigree.seed``, ``pedigree.configure``, ``pedigree.integrations``,
``pedigree.confidential``.
"""

from pedigree.capture import integrations
from pedigree.capture.confidential import Confidential, confidential
from pedigree.capture.delivery import configure, current_ledger
from pedigree.capture.run import RunContext, current_run, run
from pedigree.capture.seeds import seed
from pedigree.capture.step import step

__all__ = [
    "Confidential",
    "RunContext",
    "confidential",
    "configure",
    "current_ledger",
    "current_run",
    "integrations",
    "run",
    "seed",
    "step",
]
