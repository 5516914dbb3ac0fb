"""File and table fingerprints.

- :func:`file_fingerprint`: SHA-256 and size of a file's bytes.
- :func:`table_fingerprint`: the canonical, format-independent fingerprint of a table
  (``ptf1:<hex>``), with per-column digests; defined in ``docs/fingerprint.md``.
- :func:`fingerprint_path`: both for a path (a directory gets a manifest digest).
- :func:`diff_tables`: what differs between two tables, from their column digests.
"""

from pedigree.fingerprint.diff import TableDiff, TypeChange, diff_tables
from pedigree.fingerprint.files import FileFingerprint, file_fingerprint
from pedigree.fingerprint.paths import PathFingerprint, fingerprint_path, manifest_text
from pedigree.fingerprint.readers import FORMATS, tabular_format
from pedigree.fingerprint.table import (
    DEFAULT_BLOCK_ROWS,
    ColumnFingerprint,
    TableFingerprint,
    table_fingerprint,
    to_arrow,
)

__all__ = [
    "DEFAULT_BLOCK_ROWS",
    "FORMATS",
    "ColumnFingerprint",
    "FileFingerprint",
    "PathFingerprint",
    "TableDiff",
    "TableFingerprint",
    "TypeChange",
    "diff_tables",
    "file_fingerprint",
    "fingerprint_path",
    "manifest_text",
    "table_fingerprint",
    "tabular_format",
    "to_arrow",
]
