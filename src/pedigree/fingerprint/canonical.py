"""The canonical form of a table: type classes, and the bytes one block of a column hashes as.

This module *is* the definition written out in ``docs/fingerprint.md``; a change to any byte it
produces is a new format version (``FORMAT``), never a silent edit. It works on Arrow arrays
and NumPy views of their buffers (no per-row Python), and keeps Arrow's buffers zero-copy
wherever their layout is already canonical (int64, float64, nanosecond timestamps, the bytes
of strings).

Design choices, each explained in the docs:

- physical variants of one class hash alike (int8..uint64, float16..64, utf8/large/view/
  dictionary strings, all binary layouts, any timestamp unit, date32/date64 ...);
- a null is a cleared validity bit and a zero value; whatever sits under a null slot is never
  hashed; a float NaN *is* a null (JSON, CSV readers and pandas cannot tell them apart);
- -0.0 is +0.0 (they compare equal, and several writers drop the sign);
- timestamps with a time zone are UTC instants of class ``timestamp[utc]``; the zone's name
  is not part of the value;
- nested lists, structs and maps are supported, unions and run-end encoding are not.
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.types as pt

from pedigree.errors import FingerprintError

FORMAT = "ptf1"
"""Format version; also the prefix of every table fingerprint (``ptf1:<hex>``)."""

INT64_MAX = 2**63 - 1
NS_PER_DAY = 86_400 * 10**9
MS_PER_DAY = 86_400_000
UNIT_NS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
WIDTH = {4: b"\x04", 8: b"\x08", 16: b"\x10"}
"""Width byte of an int-like block: every value is written in the smallest of int32, int64
and int128 that holds *all* the block's values (a rule on values, not on the input type)."""
NO_NULLS = b"\x00"
HAS_NULLS = b"\x01"

_U64 = struct.Struct("<Q")

if sys.byteorder != "little":  # pragma: no cover - every supported platform is little-endian
    raise ImportError("pedigree.fingerprint needs a little-endian machine")

Part = Any
"""Something with the buffer protocol (bytes, NumPy array, ``pyarrow.Buffer``)."""


def u64(value: int) -> bytes:
    return _U64.pack(value)


# --- type classes ---------------------------------------------------------------------------


def type_tag(t: pa.DataType) -> str:
    """The type class of an Arrow type: what the fingerprint keeps of the type.

    Physical variants of one class share a tag, so re-encoding a table does not change its
    fingerprint, while a change of class (int to float, naive to aware timestamps) does.
    """
    if isinstance(t, pa.BaseExtensionType):
        return type_tag(t.storage_type)
    if pt.is_dictionary(t):
        return type_tag(t.value_type)
    if pt.is_null(t):
        return "null"
    if pt.is_boolean(t):
        return "bool"
    if pt.is_integer(t):
        return "int"
    if pt.is_floating(t):
        return "float"
    if pt.is_decimal(t):
        return f"decimal({t.scale})"
    if pt.is_string(t) or pt.is_large_string(t) or pt.is_string_view(t):
        return "string"
    if (
        pt.is_binary(t)
        or pt.is_large_binary(t)
        or pt.is_binary_view(t)
        or pt.is_fixed_size_binary(t)
    ):
        return "binary"
    if pt.is_date(t):
        return "date"
    if pt.is_timestamp(t):
        return "timestamp" if t.tz is None else "timestamp[utc]"
    if pt.is_time(t):
        return "time"
    if pt.is_duration(t):
        return "duration"
    if t == pa.month_day_nano_interval():
        return "interval"
    if pt.is_map(t):
        return f"map<{type_tag(t.key_type)},{type_tag(t.item_type)}>"
    if _is_list(t):
        return f"list<{type_tag(t.value_type)}>"
    if pt.is_struct(t):
        fields = _sorted_fields(t)
        inner = ",".join(
            f"{json.dumps(f.name, ensure_ascii=False)}:{type_tag(f.type)}" for f in fields
        )
        return f"struct<{inner}>"
    raise FingerprintError(f"type {t} is not supported by the table fingerprint")


def _is_list(t: pa.DataType) -> bool:
    return (
        pt.is_list(t)
        or pt.is_large_list(t)
        or pt.is_fixed_size_list(t)
        or pt.is_list_view(t)
        or pt.is_large_list_view(t)
    )


def _sorted_fields(t: pa.StructType) -> list[pa.Field]:
    fields = sorted((t.field(i) for i in range(t.num_fields)), key=lambda f: f.name)
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise FingerprintError(f"struct type {t} has duplicate field names")
    return fields


def plain_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type an array is cast to before encoding, so the encoder sees few layouts.

    Only layouts the encoder cannot read directly are cast (dictionaries are decoded, views
    and fixed-size layouts become ``large_*`` lists and binaries, decimals become 256-bit);
    everything else is left as it is and read zero-copy.
    """
    if isinstance(t, pa.BaseExtensionType):
        return plain_type(t.storage_type)
    if pt.is_dictionary(t):
        return plain_type(t.value_type)
    if pt.is_string_view(t):
        return pa.large_string()
    if pt.is_binary_view(t) or pt.is_fixed_size_binary(t):
        return pa.large_binary()
    if pt.is_decimal(t):
        return pa.decimal256(76, t.scale)
    if pt.is_map(t):
        return pa.large_list(
            pa.struct(
                [
                    pa.field("key", plain_type(t.key_type), nullable=False),
                    pa.field("value", plain_type(t.item_type)),
                ]
            )
        )
    if pt.is_list(t):
        return pa.list_(t.value_field.with_type(plain_type(t.value_type)))
    if _is_list(t):
        return pa.large_list(t.value_field.with_type(plain_type(t.value_type)))
    if pt.is_struct(t):
        return pa.struct(
            [t.field(i).with_type(plain_type(t.field(i).type)) for i in range(t.num_fields)]
        )
    return t


def plain(arr: pa.Array) -> pa.Array:
    if isinstance(arr, pa.ExtensionArray):
        arr = arr.storage
    if isinstance(arr, pa.DictionaryArray):
        # ``take`` is several times faster than ``dictionary_decode`` / ``cast`` on slices
        return plain(arr.dictionary.take(arr.indices))
    target = plain_type(arr.type)
    return arr if target == arr.type else arr.cast(target)


# --- buffer views ---------------------------------------------------------------------------


def _bits(buf: pa.Buffer, offset: int, n: int) -> np.ndarray:
    """Bits ``offset .. offset+n`` of an Arrow bitmap (LSB first) as a bool array."""
    first = offset // 8
    last = (offset + n + 7) // 8
    raw = np.frombuffer(buf, dtype=np.uint8, count=last - first, offset=first)
    bits = np.unpackbits(raw, bitorder="little")
    start = offset - first * 8
    return bits[start : start + n].view(np.bool_)


def _fixed(arr: pa.Array, dtype: np.dtype[Any] | type, index: int = 1) -> np.ndarray:
    """The ``n`` values of a fixed-width buffer, as a zero-copy NumPy view."""
    dt = np.dtype(dtype)
    n = len(arr)
    buf = arr.buffers()[index]
    if n == 0 or buf is None:
        return np.zeros(0, dtype=dt)
    return np.frombuffer(buf, dtype=dt, count=n, offset=arr.offset * dt.itemsize)


def _aligned_bits(buf: pa.Buffer, offset: int, n: int) -> list[Part]:
    """Bits ``offset .. offset+n`` of a bitmap, ``offset`` a multiple of 8, packed as
    ``np.packbits(..., bitorder="little")`` would: zero-copy but for the last byte, whose bits
    past the end are cleared."""
    whole, rest = divmod(n, 8)
    buf = buf.slice(offset // 8)
    parts: list[Part] = [buf.slice(0, whole)] if whole else []
    if rest:
        last = buf.slice(whole, 1).to_pybytes()[0]
        parts.append(bytes([last & ((1 << rest) - 1)]))
    return parts


def _float_width(values: np.ndarray) -> list[Part]:
    """Width byte 4 and float32 values when every value of the block is exactly a float32
    (always so for float16/32 inputs), else 8 and float64: a rule on values, like ints."""
    if values.dtype == np.float32:
        return [WIDTH[4], values]
    head = values[:64]
    with np.errstate(over="ignore"):
        if np.array_equal(head.astype(np.float32).astype(np.float64), head):
            narrow = values.astype(np.float32)
            if np.array_equal(narrow.astype(np.float64), values):
                return [WIDTH[4], narrow]
    return [WIDTH[8], values]


def validity(arr: pa.Array) -> np.ndarray | None:
    """True where a value is present; ``None`` when the array has no nulls at all."""
    n = len(arr)
    if pt.is_null(arr.type):
        return np.zeros(n, dtype=np.bool_)
    if arr.null_count == 0:
        return None
    buf = arr.buffers()[0]
    if buf is None:  # pragma: no cover - nulls without a bitmap (unions) are rejected earlier
        return np.zeros(n, dtype=np.bool_)
    return _bits(buf, arr.offset, n)


def _merge_validity(valids: Sequence[np.ndarray | None], sizes: Sequence[int]) -> np.ndarray | None:
    if all(v is None for v in valids):
        return None
    merged = np.concatenate(
        [np.ones(n, dtype=np.bool_) if v is None else v for v, n in zip(valids, sizes, strict=True)]
    )
    return None if merged.all() else merged


def _validity_parts(valid: np.ndarray | None) -> list[Part]:
    if valid is None:
        return [NO_NULLS]
    return [HAS_NULLS, np.packbits(valid, bitorder="little")]


def _zero_nulls(values: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    if valid is None:
        return values
    out = values.copy()
    out[~valid] = 0
    return out


# --- int-like values: 4, 8 or 16 bytes, the narrowest that holds the whole block ------------


def _widen(values: np.ndarray) -> np.ndarray:
    """int64 values as little-endian int128, ``(n, 2)`` uint64 words ``[low, high]``."""
    out = np.empty((len(values), 2), dtype=np.uint64)
    out[:, 0] = values.view(np.uint64)
    out[:, 1] = (values >> np.int64(63)).view(np.uint64)
    return out


def _mul_wide(values: np.ndarray, factor: int) -> np.ndarray:
    """Exact int64 x factor (< 2**31) as int128 words, vectorised (no Python ints)."""
    hi32 = values >> np.int64(32)
    lo32 = (values & np.int64(0xFFFFFFFF)).view(np.uint64)
    a = hi32 * np.int64(factor)  # |a| < 2**61
    b = lo32 * np.uint64(factor)  # b < 2**62
    a_low = a.view(np.uint64) << np.uint64(32)
    low = a_low + b
    carry = (low < a_low).astype(np.int64)
    out = np.empty((len(values), 2), dtype=np.uint64)
    out[:, 0] = low
    out[:, 1] = ((a >> np.int64(32)) + carry).view(np.uint64)
    return out


def _scaled(values: np.ndarray, factor: int) -> np.ndarray:
    """int64 values times ``factor``: int64 when every product fits, else int128 words."""
    values = values.astype(np.int64, copy=False)
    if factor == 1 or len(values) == 0:
        return values
    low, high = -((2**63) // factor), INT64_MAX // factor
    if values.min() >= low and values.max() <= high:
        return values * np.int64(factor)
    return _mul_wide(values, factor)


def _int_values(arr: pa.Array, valid: np.ndarray | None) -> np.ndarray:
    """A chunk's values as int32 when its type guarantees they fit, else int64, or int128
    words ``(n, 2)`` when one does not fit int64; nulls are zero."""
    t = arr.type
    if pt.is_integer(t):
        values = _zero_nulls(_fixed(arr, t.to_pandas_dtype()), valid)
        if t.bit_width < 32 or t == pa.int32():
            return values.astype(np.int32, copy=False)
        if values.dtype == np.uint64:
            if len(values) and values.max() > INT64_MAX:
                out = np.zeros((len(values), 2), dtype=np.uint64)
                out[:, 0] = values
                return out
            return values.view(np.int64)
        return values.astype(np.int64, copy=False)
    # timestamp or duration: int64 in its unit, scaled to nanoseconds
    return _scaled(_zero_nulls(_fixed(arr, np.int64), valid), UNIT_NS[t.unit])


def _int_like_parts(
    chunks: Sequence[pa.Array], valid: np.ndarray | None, sizes: list[int]
) -> list[Part]:
    pieces = []
    start = 0
    for arr, n in zip(chunks, sizes, strict=True):
        pieces.append(_int_values(arr, None if valid is None else valid[start : start + n]))
        start += n
    if any(p.ndim == 2 for p in pieces):
        pieces = [p if p.ndim == 2 else _widen(p.astype(np.int64, copy=False)) for p in pieces]
        return [WIDTH[16], _concat(pieces)]
    wider = [p for p in pieces if p.dtype == np.int64 and len(p)]
    if wider and (
        min(int(p.min()) for p in wider) < INT32_MIN or max(int(p.max()) for p in wider) > INT32_MAX
    ):
        return [WIDTH[8], _concat([p.astype(np.int64, copy=False) for p in pieces])]
    return [WIDTH[4], _concat([p.astype(np.int32, copy=False) for p in pieces])]


def _concat(pieces: list[np.ndarray]) -> np.ndarray:
    return pieces[0] if len(pieces) == 1 else np.concatenate(pieces)


# --- one column of one block ----------------------------------------------------------------


def encode(chunks: Sequence[pa.Array]) -> list[Part]:
    """The canonical bytes (as a list of parts hashed in order) of consecutive array chunks
    of one type class: one column of one block.

    The chunks are normalised with :func:`plain` first; they may differ in physical type
    (one partition's ``int32`` next to another's ``int64``) but not in class. This is the
    reference implementation; :mod:`pedigree.fingerprint.fast` produces the same bytes for
    the common layouts without temporary arrays.
    """
    parts: list[Part] = []
    _encode([plain(c) for c in chunks if len(c)], parts)
    return parts


def _encode(chunks: list[pa.Array], parts: list[Part]) -> None:
    """Append the canonical bytes of ``chunks`` (already plain, non-empty) to ``parts``."""
    if not chunks:
        return  # an empty array encodes as nothing: its length is known from its parent
    t = chunks[0].type
    if pt.is_null(t):
        return
    sizes = [len(c) for c in chunks]
    valids = [validity(c) for c in chunks]

    if pt.is_floating(t):
        values = []
        for i, c in enumerate(chunks):
            v = _fixed(c, c.type.to_pandas_dtype())
            if v.dtype == np.float16:
                v = v.astype(np.float32)
            nan = np.isnan(v)
            if nan.any():
                valids[i] = ~nan if valids[i] is None else valids[i] & ~nan
            values.append(v)
        valid = _merge_validity(valids, sizes)
        dtype = np.result_type(*values)
        v = _concat([x.astype(dtype, copy=False) for x in values])
        if valid is not None:
            v = np.where(valid, v, dtype.type(0.0))
        zeros = v == 0.0
        if zeros.any():
            v = np.where(zeros, dtype.type(0.0), v)  # -0.0 is +0.0
        parts += _validity_parts(valid)
        parts += _float_width(v)
        return

    valid = _merge_validity(valids, sizes)
    parts += _validity_parts(valid)

    if pt.is_integer(t) or pt.is_timestamp(t) or pt.is_duration(t):
        parts += _int_like_parts(chunks, valid, sizes)
    elif pt.is_boolean(t):
        if valid is None and len(chunks) == 1 and chunks[0].offset % 8 == 0:
            parts += _aligned_bits(chunks[0].buffers()[1], chunks[0].offset, len(chunks[0]))
        else:
            bits = _concat([_bits(c.buffers()[1], c.offset, len(c)) for c in chunks])
            if valid is not None:
                bits = bits & valid
            parts.append(np.packbits(bits, bitorder="little"))
    elif pt.is_date(t):
        parts.append(_zero_nulls(_concat([_days(c) for c in chunks]), valid))
    elif pt.is_time(t):
        ns = [
            _fixed(c, np.int32 if pt.is_time32(c.type) else np.int64).astype(np.int64)
            * np.int64(UNIT_NS[c.type.unit])
            for c in chunks
        ]
        parts.append(_zero_nulls(_concat(ns), valid))
    elif pt.is_decimal(t) or t == pa.month_day_nano_interval():
        width = 32 if pt.is_decimal(t) else 16
        raw = _concat([_fixed(c, np.dtype((np.uint8, width))) for c in chunks])
        parts.append(_zero_nulls(raw, valid))
    elif pt.is_string(t) or pt.is_large_string(t) or pt.is_binary(t) or pt.is_large_binary(t):
        _var_width(chunks, valid, sizes, parts)
    elif pt.is_list(t) or pt.is_large_list(t):
        lengths = []
        children = []
        start = 0
        for c in chunks:
            mask = None if valid is None else valid[start : start + len(c)]
            start += len(c)
            lengths.append(_zero_nulls(np.diff(_fixed_offsets(c)), mask))
            children.append(c.flatten())  # skips the ranges of null lists
        parts += _lengths(lengths)
        _encode([x for x in children if len(x)], parts)
    elif pt.is_struct(t):
        fields = _sorted_fields(t)
        flat = [
            dict(zip((t.field(i).name for i in range(t.num_fields)), c.flatten(), strict=True))
            for c in chunks
        ]
        for f in fields:  # children already carry the parent's nulls (StructArray.flatten)
            _encode([plain(x[f.name]) for x in flat], parts)
    else:  # pragma: no cover - type_tag rejects everything else first
        raise FingerprintError(f"type {t} is not supported by the table fingerprint")


def _days(arr: pa.Array) -> np.ndarray:
    """Days since 1970-01-01 as int32 (date32 as is; date64 milliseconds floored to days)."""
    if pt.is_date32(arr.type):
        return _fixed(arr, np.int32)
    days = np.floor_divide(_fixed(arr, np.int64), MS_PER_DAY)
    if len(days) and (days.min() < -(2**31) or days.max() >= 2**31):
        raise FingerprintError("a date64 value is outside the int32 range of days")
    return days.astype(np.int32)


def _lengths(pieces: list[np.ndarray]) -> list[Part]:
    """Value lengths: width byte 4 and u32 each, or 8 and u64 when one length needs it."""
    if any(len(p) and p.max() >= 2**32 for p in pieces if p.dtype == np.int64):
        return [b"\x08", _concat([p.astype(np.uint64) for p in pieces])]
    return [b"\x04", _concat([p.astype(np.uint32, copy=False) for p in pieces])]


def _fixed_offsets(arr: pa.Array) -> np.ndarray:
    large = (
        pt.is_large_string(arr.type) or pt.is_large_binary(arr.type) or pt.is_large_list(arr.type)
    )
    dt = np.dtype(np.int64 if large else np.int32)
    return np.frombuffer(
        arr.buffers()[1], dtype=dt, count=len(arr) + 1, offset=arr.offset * dt.itemsize
    )


def _var_width(
    chunks: list[pa.Array], valid: np.ndarray | None, sizes: list[int], parts: list[Part]
) -> None:
    """Strings and binaries: lengths (0 under nulls), then the bytes of present values."""
    lengths = []
    data: list[Part] = []
    start = 0
    for c, n in zip(chunks, sizes, strict=True):
        offsets = _fixed_offsets(c)
        length = np.diff(offsets)
        mask = None if valid is None else valid[start : start + n]
        start += n
        if mask is not None and length[~mask].any():
            # bytes under null slots: hash only the present values, compacted by filter
            present = c.filter(pa.array(mask))
            offsets = _fixed_offsets(present)
            c = present
            length = np.where(mask, length, 0)
        lengths.append(length)
        first, last = int(offsets[0]), int(offsets[-1])
        if last > first:
            data.append(c.buffers()[2].slice(first, last - first))
    parts += _lengths(lengths)
    parts += data
