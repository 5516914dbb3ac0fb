"""The mixed-type Arrow table the fingerprint benchmarks measure (not part of the package).

One column of each common type class, random values from a fixed seed, built with NumPy and
Arrow kernels (seconds for a gigabyte): int64, int32, float64, float32 (widened when
hashed), bool, a UTC timestamp in microseconds (scaled to nanoseconds when hashed), date32,
a variable-length string, a dictionary-encoded category (decoded when hashed) and a float64
with 10 % nulls.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

ROW_BYTES = 60
"""Approximate Arrow bytes per row of :func:`mixed_table` (used to size it)."""


def mixed_table(target_bytes: int, *, seed: int = 7) -> pa.Table:
    """About ``target_bytes`` of Arrow data (one chunk per column)."""
    rows = max(target_bytes // ROW_BYTES, 1)
    rng = np.random.default_rng(seed)
    digits = 10 ** rng.integers(1, 12, rows)
    names = pc.binary_join_element_wise(
        "user-", pc.cast(pa.array(rng.integers(0, digits)), pa.string()), ""
    )
    categories = pa.array([f"category-{i:03d}" for i in range(200)])
    return pa.table(
        {
            "id": pa.array(np.arange(rows, dtype=np.int64)),
            "quantity": pa.array(rng.integers(-(2**31), 2**31, rows, dtype=np.int32)),
            "price": pa.array(rng.standard_normal(rows) * 100),
            "ratio": pa.array(rng.random(rows, dtype=np.float32)),
            "active": pa.array(rng.random(rows) < 0.5),
            "updated_at": pa.array(rng.integers(0, 2**50, rows), pa.timestamp("us", tz="UTC")),
            "day": pa.array(rng.integers(0, 30_000, rows, dtype=np.int32), pa.date32()),
            "name": names,
            "category": pa.DictionaryArray.from_arrays(
                pa.array(rng.integers(0, len(categories), rows, dtype=np.int32)), categories
            ),
            "score": pa.array(rng.standard_normal(rows), mask=rng.random(rows) < 0.1),
        }
    )


def buffers(table: pa.Table) -> list[pa.Buffer]:
    """Every Arrow buffer of the table (validity, offsets, values, dictionaries)."""
    found = []
    for column in table.columns:
        for chunk in column.chunks:
            found += [b for b in chunk.buffers() if b is not None]
            if isinstance(chunk, pa.DictionaryArray):
                found += [b for b in chunk.dictionary.buffers() if b is not None]
    return found
