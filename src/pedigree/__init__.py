"""Pedigree: a provenance ledger for synthetic data and the AI pipelines around it."""

__version__ = "0.1.0"
