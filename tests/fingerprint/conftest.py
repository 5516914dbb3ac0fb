"""A table with one column of each type class that survives every file format."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest


def sample_table() -> pa.Table:
    """Types every format can hold and every reader infers back as the same class.

    (JSON has no date type, so ``day`` is left out of the JSON Lines round trip.)
    """
    return pa.table(
        {
            "id": pa.array([1, 2, 3, None, 5], pa.int64()),
            "score": [1.5, None, -0.0, 2.25, 1e300],
            "name": ["ann", None, "", "dé", "a,b"],
            "flag": [True, False, None, True, False],
            "day": pa.array(
                [
                    dt.date(2020, 1, 1),
                    None,
                    dt.date(1969, 12, 31),
                    dt.date(2024, 2, 29),
                    dt.date(1, 1, 1),
                ]
            ),
            "at": pa.array(
                [
                    dt.datetime(2020, 1, 1, 12, 0, 0),
                    None,
                    dt.datetime(1900, 1, 1),
                    dt.datetime(2100, 1, 1, 0, 0, 1),
                    dt.datetime(2000, 6, 1, 3, 4, 5),
                ],
                pa.timestamp("s"),
            ),
        }
    )


@pytest.fixture
def table() -> pa.Table:
    return sample_table()
