"""Comparing two tables by their fingerprints: same or not, and what differs.

Everything is decided from the per-column digests, so a diff costs two fingerprints (or
none, when both are at hand) and never holds both tables in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pedigree.errors import FingerprintError
from pedigree.fingerprint.table import TableFingerprint, table_fingerprint


@dataclass(frozen=True, slots=True)
class TypeChange:
    """A column present in both tables whose type class changed."""

    name: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class TableDiff:
    """What differs between table ``a`` and table ``b``.

    ``changed``: columns of the same name and type class whose content differs (when the
    row counts differ, that is every column that is not empty in both). ``renamed``: a
    column of ``a`` missing from ``b`` whose exact content and class reappear under a new
    name (such pairs are not also listed in ``removed`` / ``added``).
    """

    a: TableFingerprint
    b: TableFingerprint
    added: tuple[str, ...]
    removed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]
    retyped: tuple[TypeChange, ...]
    changed: tuple[str, ...]

    @property
    def same(self) -> bool:
        return self.a.fingerprint == self.b.fingerprint

    @property
    def rows_changed(self) -> bool:
        return self.a.rows != self.b.rows

    def to_json(self) -> dict[str, Any]:
        return {
            "same": self.same,
            "a": {
                "fingerprint": self.a.fingerprint,
                "rows": self.a.rows,
                "columns": len(self.a.columns),
            },
            "b": {
                "fingerprint": self.b.fingerprint,
                "rows": self.b.rows,
                "columns": len(self.b.columns),
            },
            "rows": {"a": self.a.rows, "b": self.b.rows, "changed": self.rows_changed},
            "added": list(self.added),
            "removed": list(self.removed),
            "renamed": [{"from": old, "to": new} for old, new in self.renamed],
            "type_changes": [
                {"name": c.name, "from": c.before, "to": c.after} for c in self.retyped
            ],
            "changed": list(self.changed),
        }


def diff_tables(a: Any, b: Any, *, block_rows: int | None = None) -> TableDiff:
    """Compare two tables (anything :func:`table_fingerprint` accepts, or fingerprints)."""
    fa = a if isinstance(a, TableFingerprint) else table_fingerprint(a, block_rows=block_rows)
    fb = b if isinstance(b, TableFingerprint) else table_fingerprint(b, block_rows=block_rows)
    if fa.block_rows != fb.block_rows:
        raise FingerprintError(
            f"cannot compare fingerprints of different block sizes ({fa.block_rows} and "
            f"{fb.block_rows} rows)"
        )
    cols_a = {c.name: c for c in fa.columns}
    cols_b = {c.name: c for c in fb.columns}
    only_a = [n for n in cols_a if n not in cols_b]
    only_b = [n for n in cols_b if n not in cols_a]
    renamed: list[tuple[str, str]] = []
    by_content = {(cols_b[n].type, cols_b[n].digest): n for n in reversed(only_b)}
    for name in only_a:
        match = by_content.pop((cols_a[name].type, cols_a[name].digest), None)
        if match is not None:
            renamed.append((name, match))
    moved_a = {old for old, _ in renamed}
    moved_b = {new for _, new in renamed}
    common = [n for n in cols_a if n in cols_b]
    return TableDiff(
        a=fa,
        b=fb,
        added=tuple(n for n in only_b if n not in moved_b),
        removed=tuple(n for n in only_a if n not in moved_a),
        renamed=tuple(renamed),
        retyped=tuple(
            TypeChange(n, cols_a[n].type, cols_b[n].type)
            for n in common
            if cols_a[n].type != cols_b[n].type
        ),
        changed=tuple(
            n
            for n in common
            if cols_a[n].type == cols_b[n].type and cols_a[n].digest != cols_b[n].digest
        ),
    )
