"""The canonical table fingerprint: invariance (physical layout, chunking, column order) and
sensitivity (any cell, row, name or type class)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pedigree.errors import FingerprintError
from pedigree.fingerprint import DEFAULT_BLOCK_ROWS, table_fingerprint
from pedigree.fingerprint.canonical import _mul_wide, type_tag


def fp(arr: pa.Array | list, typ: pa.DataType | None = None) -> str:
    array = arr if isinstance(arr, pa.Array | pa.ChunkedArray) else pa.array(arr, typ)
    return table_fingerprint(pa.table({"x": array})).fingerprint


# --- the same logical values ----------------------------------------------------------------

SAME = [
    ("int widths", pa.array([1, -2, None], pa.int8()), pa.array([1, -2, None], pa.int64())),
    ("unsigned", pa.array([0, 2**32 - 1], pa.uint32()), pa.array([0, 2**32 - 1], pa.int64())),
    (
        "uint64 in range",
        pa.array([5, 2**63 - 1], pa.uint64()),
        pa.array([5, 2**63 - 1], pa.int64()),
    ),
    ("float widths", pa.array([1.5, None], pa.float32()), pa.array([1.5, None], pa.float64())),
    ("float16", pa.array(np.array([0.25], np.float16)), pa.array([0.25])),
    ("NaN is null", pa.array([1.0, float("nan")]), pa.array([1.0, None])),
    ("-0.0 is 0.0", pa.array([-0.0, 1.0]), pa.array([0.0, 1.0])),
    ("large string", pa.array(["a", None, "bc"]), pa.array(["a", None, "bc"], pa.large_string())),
    ("string view", pa.array(["a", None, "bc"]), pa.array(["a", None, "bc"], pa.string_view())),
    ("dictionary", pa.array(["a", None, "a"]), pa.array(["a", None, "a"]).dictionary_encode()),
    (
        "binary layouts",
        pa.array([b"ab", None], pa.binary(2)),
        pa.array([b"ab", None], pa.large_binary()),
    ),
    (
        "timestamp units",
        pa.array([1, None], pa.timestamp("s")),
        pa.array([10**9, None], pa.timestamp("ns")),
    ),
    (
        "time zones",
        pa.array([0], pa.timestamp("s", "Asia/Tokyo")),
        pa.array([0], pa.timestamp("us", "UTC")),
    ),
    (
        "date units",
        pa.array([dt.date(2020, 1, 1), None]),
        pa.array([dt.date(2020, 1, 1), None], pa.date64()),
    ),
    (
        "time units",
        pa.array([dt.time(1, 2, 3)], pa.time32("s")),
        pa.array([dt.time(1, 2, 3)], pa.time64("ns")),
    ),
    ("duration units", pa.array([5], pa.duration("s")), pa.array([5000], pa.duration("ms"))),
    (
        "decimal widths",
        pa.array([Decimal("1.50"), None], pa.decimal128(5, 2)),
        pa.array([Decimal("1.50"), None], pa.decimal256(40, 2)),
    ),
    (
        "list layouts",
        pa.array([[1, 2], None, [3, None]], pa.list_(pa.int32())),
        pa.array([[1, 2], None, [3, None]], pa.large_list(pa.int64())),
    ),
    (
        "fixed-size list",
        pa.array([[1, 2], [3, 4]], pa.list_(pa.int64(), 2)),
        pa.array([[1, 2], [3, 4]]),
    ),
    (
        "struct field order",
        pa.array([{"a": 1, "b": "x"}, None]),
        pa.array(
            [{"b": "x", "a": 1}, None], pa.struct([("b", pa.large_string()), ("a", pa.int8())])
        ),
    ),
    (
        "map layouts",
        pa.array([[("k", 1)], None], pa.map_(pa.string(), pa.int64())),
        pa.array([[("k", 1)], None], pa.map_(pa.large_string(), pa.int32())),
    ),
]


@pytest.mark.parametrize(("label", "a", "b"), SAME, ids=[s[0] for s in SAME])
def test_physical_variants_hash_alike(label: str, a: pa.Array, b: pa.Array) -> None:
    assert fp(a) == fp(b)


def test_wide_timestamps_agree_across_units() -> None:
    """Instants outside int64 nanoseconds (year 1 to 9999) use 16-byte values, exactly."""
    seconds = pa.array([dt.datetime(9999, 12, 31), dt.datetime(1, 1, 1), None], pa.timestamp("s"))
    assert (
        fp(seconds) == fp(seconds.cast(pa.timestamp("ms"))) == fp(seconds.cast(pa.timestamp("us")))
    )
    later = pa.array([dt.datetime(9999, 12, 30), dt.datetime(1, 1, 1), None], pa.timestamp("s"))
    assert fp(seconds) != fp(later)


def test_wide_multiplication_is_exact() -> None:
    values = np.array([-(2**63), -1, 0, 1, 2**63 - 1, 123456789012345678], np.int64)
    for factor in (1000, 10**6, 10**9):
        words = _mul_wide(values, factor)
        got = [int(lo) + (int(hi) << 64) for lo, hi in words]
        got = [g - (1 << 128) if g >= 1 << 127 else g for g in got]
        assert got == [int(v) * factor for v in values]


def test_garbage_under_nulls_is_never_hashed() -> None:
    masked = pa.array([1.0, 7.0], mask=np.array([False, True]))
    assert fp(masked) == fp([1.0, None])
    ints = pa.Array.from_buffers(
        pa.int64(),
        2,
        [pa.py_buffer(bytes([0b01])), pa.py_buffer(np.array([4, 99], np.int64).tobytes())],
    )
    assert fp(ints) == fp([4, None])
    strings = pa.StringArray.from_buffers(
        3,
        pa.py_buffer(np.array([0, 1, 4, 5], np.int32).tobytes()),
        pa.py_buffer(b"aXYZb"),
        pa.py_buffer(bytes([0b101])),
    )
    assert fp(strings) == fp(["a", None, "b"])
    lists = pa.ListArray.from_arrays(
        pa.array([0, 2, 4, 5]), pa.array([1, 2, 9, 9, 3]), mask=pa.array([False, True, False])
    )
    assert fp(lists) == fp([[1, 2], None, [3]])
    assert fp(pa.array([True, True], mask=np.array([False, True]))) == fp([True, None])


# --- any change ------------------------------------------------------------------------------

DIFFERENT = [
    ("int vs float", pa.array([1]), pa.array([1.0])),
    ("int vs string", pa.array([1]), pa.array(["1"])),
    ("string vs binary", pa.array(["a"]), pa.array([b"a"])),
    ("null vs empty string", pa.array([None], pa.string()), pa.array([""])),
    ("null vs zero", pa.array([None], pa.int64()), pa.array([0])),
    ("naive vs aware", pa.array([1], pa.timestamp("s")), pa.array([1], pa.timestamp("s", "UTC"))),
    (
        "date vs timestamp",
        pa.array([dt.date(2020, 1, 1)]),
        pa.array([dt.datetime(2020, 1, 1)], pa.timestamp("s")),
    ),
    ("uint64 above int64", pa.array([2**63], pa.uint64()), pa.array([-(2**63)], pa.int64())),
    (
        "decimal scale",
        pa.array([Decimal("1.5")], pa.decimal128(5, 1)),
        pa.array([Decimal("1.50")], pa.decimal128(5, 2)),
    ),
    ("decimal vs float", pa.array([Decimal("1.5")], pa.decimal128(5, 1)), pa.array([1.5])),
    ("null type vs typed nulls", pa.nulls(2), pa.nulls(2, pa.int64())),
    ("list split", pa.array([[1, 2], [3]]), pa.array([[1], [2, 3]])),
    (
        "empty list vs null list",
        pa.array([[]], pa.list_(pa.int64())),
        pa.array([None], pa.list_(pa.int64())),
    ),
    ("string split", pa.array(["ab", "c"]), pa.array(["a", "bc"])),
    (
        "map vs list of structs",
        pa.array([[("a", 1)]], pa.map_(pa.string(), pa.int64())),
        pa.array([[{"key": "a", "value": 1}]]),
    ),
    ("bool vs int", pa.array([True]), pa.array([1])),
]


@pytest.mark.parametrize(("label", "a", "b"), DIFFERENT, ids=[d[0] for d in DIFFERENT])
def test_changes_of_value_or_class_differ(label: str, a: pa.Array, b: pa.Array) -> None:
    assert fp(a) != fp(b)


def test_each_kind_of_change(table: pa.Table) -> None:
    ref = table_fingerprint(table)
    changed_cell = table.set_column(0, "id", pa.array([1, 2, 4, None, 5]))
    assert table_fingerprint(changed_cell) != ref
    assert table_fingerprint(table.slice(0, 4)) != ref  # removed row
    assert table_fingerprint(pa.concat_tables([table, table.slice(0, 1)])) != ref  # added row
    assert table_fingerprint(table.rename_columns(["ID", *table.column_names[1:]])) != ref
    assert table_fingerprint(table.drop_columns(["flag"])) != ref
    retyped = table.set_column(0, "id", table.column("id").cast(pa.float64()))
    assert table_fingerprint(retyped) != ref
    assert table_fingerprint(table.take([1, 0, 2, 3, 4])) != ref  # row order matters
    # column order does not
    assert table_fingerprint(table.select(list(reversed(table.column_names)))) == ref


def test_column_digests_name_the_changed_column(table: pa.Table) -> None:
    ref = table_fingerprint(table)
    other = table_fingerprint(table.set_column(2, "name", pa.array(["ann", None, "", "de", "a,b"])))
    differing = [
        a.name for a, b in zip(ref.columns, other.columns, strict=True) if a.digest != b.digest
    ]
    assert differing == ["name"]
    assert [c.name for c in ref.columns] == sorted(table.column_names)


def test_empty_and_zero_column_tables() -> None:
    empty = pa.table({"a": pa.array([], pa.int64())})
    assert table_fingerprint(empty).rows == 0
    assert table_fingerprint(empty) != table_fingerprint(
        pa.table({"a": pa.array([], pa.float64())})
    )
    assert table_fingerprint(pa.table({"a": [1]})).rows == 1


def test_block_size_is_part_of_the_value(table: pa.Table) -> None:
    assert table_fingerprint(table).block_rows == DEFAULT_BLOCK_ROWS
    small = table_fingerprint(table, block_rows=2)
    assert small.fingerprint.startswith("ptf1-b2:")
    assert small != table_fingerprint(table)


def test_unsupported_input_and_types_are_clear_errors() -> None:
    with pytest.raises(FingerprintError, match="cannot fingerprint a dict"):
        table_fingerprint({"a": [1]})
    union = pa.UnionArray.from_sparse(pa.array([0], pa.int8()), [pa.array([1])])
    with pytest.raises(FingerprintError, match="column 'u'.*not supported"):
        table_fingerprint(pa.table({"u": union}))
    with pytest.raises(FingerprintError, match="duplicate column names: a"):
        table_fingerprint(pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["a", "a"]))
    assert (
        type_tag(pa.struct([("b", pa.int8()), ("a", pa.string())])) == 'struct<"a":string,"b":int>'
    )


# --- chunking never matters; any single cell does --------------------------------------------

COLUMN_TYPES = {
    "int": (st.integers(-(2**63), 2**63 - 1), pa.int64()),
    "small": (st.integers(-128, 127), pa.int8()),
    "float": (st.floats(allow_nan=True, width=64), pa.float64()),
    "text": (st.text(max_size=6), pa.string()),
    "bytes": (st.binary(max_size=5), pa.large_binary()),
    "flag": (st.booleans(), pa.bool_()),
    "stamp": (st.integers(-(2**40), 2**40), pa.timestamp("us")),
    "nested": (st.lists(st.integers(-5, 5) | st.none(), max_size=3), pa.list_(pa.int16())),
}


@st.composite
def tables(draw: st.DrawFn) -> pa.Table:
    rows = draw(st.integers(1, 40))
    names = draw(
        st.lists(st.sampled_from(sorted(COLUMN_TYPES)), min_size=1, max_size=4, unique=True)
    )
    columns = {}
    for name in names:
        values, typ = COLUMN_TYPES[name]
        columns[name] = pa.array(
            draw(st.lists(values | st.none(), min_size=rows, max_size=rows)), typ
        )
    return pa.table(columns)


@st.composite
def rechunked(draw: st.DrawFn, table: pa.Table) -> pa.Table:
    """The same rows cut into random chunks (each column on its own boundaries)."""
    columns = []
    for column in table.columns:
        cuts = sorted(draw(st.lists(st.integers(0, table.num_rows), max_size=5)))
        bounds = [0, *cuts, table.num_rows]
        chunks = [column.slice(a, b - a).combine_chunks() for a, b in itertools.pairwise(bounds)]
        columns.append(pa.chunked_array(chunks, column.type))
    return pa.table(columns, names=table.column_names)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), table=tables(), block_rows=st.integers(1, 9))
def test_rechunking_never_changes_the_value(
    data: st.DataObject, table: pa.Table, block_rows: int
) -> None:
    other = data.draw(rechunked(table))
    assert table_fingerprint(other, block_rows=block_rows) == table_fingerprint(
        table, block_rows=block_rows
    )


def _cell(table: pa.Table, column: str, row: int) -> object:
    return table.column(column)[row].as_py()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), table=tables(), block_rows=st.integers(1, 9))
def test_any_single_cell_change_changes_the_value(
    data: st.DataObject, table: pa.Table, block_rows: int
) -> None:
    name = data.draw(st.sampled_from(table.column_names))
    row = data.draw(st.integers(0, table.num_rows - 1))
    values, typ = COLUMN_TYPES[name]
    old = _cell(table, name, row)
    new = data.draw(
        (values | st.none()).filter(
            lambda v: not _equal_cells(pa.array([v], typ)[0].as_py(), old)  # as Arrow reads it
        )
    )
    column = table.column(name).to_pylist()
    column[row] = new
    changed = table.set_column(table.column_names.index(name), name, pa.array(column, typ))
    before = table_fingerprint(table, block_rows=block_rows)
    after = table_fingerprint(changed, block_rows=block_rows)
    assert before != after
    assert [c.name for c in before.columns if c.digest != after.column(c.name).digest] == [name]


def _equal_cells(a: object, b: object) -> bool:
    """Equal under the canonical form: NaN is null, -0.0 is 0.0."""

    def norm(v: object) -> object:
        if isinstance(v, float) and v != v:
            return None
        if isinstance(v, list):
            return [norm(x) for x in v]
        return v

    a, b = norm(a), norm(b)
    return type(a) is type(b) and a == b


# --- the fast path feeds the hasher exactly the reference bytes ------------------------------

FAST_CASES = [
    pa.array(np.arange(-5, 40, dtype=np.int64)),
    pa.array(np.arange(40, dtype=np.int64) * 2**40),
    pa.array([1, None, 3, 2**40, None] * 9, pa.int64()),
    pa.array([1, None, -3] * 13, pa.int8()),
    pa.array([2**32 - 1, None, 7] * 13, pa.uint32()),
    pa.array([2**64 - 1, None, 7] * 13, pa.uint64()),
    pa.array([5, None, 7] * 13, pa.uint64()),
    pa.array([0.5, None, -0.0, 1e300, float("inf")] * 9),
    pa.array([0.5, 1.0, -0.0, 2.0] * 9),
    pa.array([0.5, float("nan"), 2.0] * 13),
    pa.array(np.arange(40, dtype=np.float32) - 20.5),
    pa.array([1.5, None, -0.0] * 13, pa.float32()),
    pa.array([1, None, 2**40] * 13, pa.timestamp("us", "UTC")),
    pa.array([-(2**62), None, 2**62] * 13, pa.timestamp("s")),
    pa.array([1, None, 5] * 13, pa.duration("ns")),
    pa.array([1, None, 19000] * 13, pa.date32()),
    pa.array(["a", None, "", "long value"] * 10),
    pa.array([b"x", None, b""] * 13, pa.large_binary()),
    pa.array(["a", "b", None] * 13).dictionary_encode(),
]


@pytest.mark.parametrize("arr", FAST_CASES, ids=[str(a.type) for a in FAST_CASES])
def test_fast_path_feeds_the_reference_bytes(arr: pa.Array) -> None:
    from pedigree.fingerprint.canonical import encode
    from pedigree.fingerprint.fast import hash_block

    def as_bytes(part: object) -> bytes:
        if isinstance(part, np.ndarray):
            return part.tobytes()
        return bytes(memoryview(part))  # type: ignore[arg-type]

    def fed(chunks: list[pa.Array]) -> bytes:
        parts: list[bytes] = []
        hash_block(lambda p: parts.append(as_bytes(p)), chunks)
        return b"".join(parts)

    for offset, length in [(0, len(arr)), (3, 21), (8, 17), (16, 0), (1, 1)]:
        piece = arr.slice(offset, length)
        reference = b"".join(as_bytes(p) for p in encode([piece]))
        assert fed([piece]) == reference, (offset, length)
        assert fed([piece.slice(0, length // 2), piece.slice(length // 2)]) == reference


def test_the_worked_example_of_the_docs() -> None:
    """docs/fingerprint.md computes this value by hand; the format must not drift from it."""
    import struct

    import blake3

    def u64(x: int) -> bytes:
        return struct.pack("<Q", x)

    body = b"\x01\x05" + b"\x04" + struct.pack("<3i", 1, 0, 3)
    d0 = blake3.blake3(b"int\x00" + u64(3) + body).digest()
    c = blake3.blake3(b"ptf1/column\x00int\x00" + d0).digest()
    value = blake3.blake3(
        b"ptf1/table\x00" + u64(524288) + u64(3) + u64(1) + u64(1) + b"x" + u64(3) + b"int" + c
    ).hexdigest()
    assert value == "2c2c63f08fb703d44261317a72bbc2a4c42bfde694f589fb73b3524d98efd337"
    for typ in (pa.int8(), pa.uint64(), pa.int64()):
        assert fp(pa.array([1, None, 3], typ)) == f"ptf1:{value}"
