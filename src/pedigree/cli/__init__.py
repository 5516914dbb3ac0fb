"""Command line (thin: parses, calls the layers below, renders)."""

from pedigree.cli.app import app, main

__all__ = ["app", "main"]
