"""The hot path: the canonical bytes of common columns, hashed as they are produced.

:func:`canonical.encode` is the reference: it builds every part with fresh NumPy arrays.
For the layouts that make up most data (one chunk of int, float, timestamp, duration,
date32, string or binary) this module produces the *same bytes* straight into the hasher,
reading Arrow buffers zero-copy and writing whatever must be computed (zeroed nulls, widened
or scaled values, lengths) into per-thread scratch buffers that are reused block after
block. Fresh arrays of a megabyte or more cost page faults on every block, which measured
as much as the hashing itself; the scratch buffers avoid that. Anything unusual (a NaN to
fold into the nulls, bytes under a null string, nested types, several chunks of different
physical types) falls back to the reference.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.types as pt

from pedigree.fingerprint.canonical import (
    HAS_NULLS,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    NO_NULLS,
    UNIT_NS,
    WIDTH,
    Part,
    _fixed,
    _fixed_offsets,
    _float_width,
    _mul_wide,
    encode,
    plain,
)

Emit = Callable[[Part], None]


class _Scratch(threading.local):
    """Per-thread reusable buffers, by purpose; each grows to the largest block seen."""

    def __init__(self) -> None:
        self.buffers: dict[str, np.ndarray] = {}

    def get(self, name: str, n: int, dtype: Any) -> np.ndarray:
        dt = np.dtype(dtype)
        need = n * dt.itemsize
        buf = self.buffers.get(name)
        if buf is None or buf.size < need:
            buf = self.buffers[name] = np.empty(max(need, 64), dtype=np.uint8)
        return buf[:need].view(dt)


_scratch = _Scratch()


def hash_block(update: Emit, chunks: Sequence[pa.Array]) -> None:
    """Feed the canonical bytes of one column of one block to ``update`` (``hasher.update``).

    Byte for byte what ``for part in canonical.encode(chunks): update(part)`` feeds.
    """
    arrays = [plain(c) for c in chunks if len(c)]
    if len(arrays) > 1 and all(a.type == arrays[0].type for a in arrays):
        arrays = [pa.concat_arrays(arrays)]  # one copy, then the fast path applies
    if len(arrays) == 1:
        arr = arrays[0]
        t = arr.type
        if _fixed_type(t) and _fixed_block(arr, update):
            return
        if _var_type(t) and _var_block(arr, update):
            return
    for part in encode(arrays):
        update(part)


def _fixed_type(t: pa.DataType) -> bool:
    return (
        pt.is_integer(t)
        or pt.is_timestamp(t)
        or pt.is_duration(t)
        or pt.is_date32(t)
        or pt.is_float32(t)
        or pt.is_float64(t)
    )


def _var_type(t: pa.DataType) -> bool:
    return pt.is_string(t) or pt.is_large_string(t) or pt.is_binary(t) or pt.is_large_binary(t)


# --- validity ---------------------------------------------------------------------------------


def _bits01(arr: pa.Array) -> np.ndarray:
    """The validity bitmap as 0/1 bytes (an eighth of the values' size: allocated)."""
    n, offset = len(arr), arr.offset
    first = offset // 8
    raw = np.frombuffer(
        arr.buffers()[0], np.uint8, count=(offset + n + 7) // 8 - first, offset=first
    )
    start = offset - first * 8
    return np.unpackbits(raw, count=start + n, bitorder="little")[start:]


def _emit_validity(arr: pa.Array, bits: np.ndarray | None, update: Emit) -> None:
    """``0x00``, or ``0x01`` and the packed bitmap (zero-copy when byte-aligned)."""
    if bits is None:
        update(NO_NULLS)
        return
    update(HAS_NULLS)
    n, offset = len(arr), arr.offset
    if offset % 8:
        update(np.packbits(bits, bitorder="little"))
        return
    whole, rest = divmod(n, 8)
    buf = arr.buffers()[0].slice(offset // 8)
    if whole:
        update(buf.slice(0, whole))
    if rest:
        update(bytes([buf.slice(whole, 1).to_pybytes()[0] & ((1 << rest) - 1)]))


def _masked(values: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """``values`` with zeros under nulls: their bits times 0 or 1, as integers (so a NaN or
    any other garbage under a null becomes 0), in one pass."""
    signed = np.dtype(f"i{values.dtype.itemsize}")
    out = _scratch.get("masked", len(values), signed)
    np.multiply(values.view(signed), bits, out=out, casting="unsafe")
    return out.view(values.dtype)


# --- fixed width --------------------------------------------------------------------------------


def _fixed_block(arr: pa.Array, update: Emit) -> bool:
    t = arr.type
    if pt.is_date32(t):
        dtype: Any = np.int32
    elif pt.is_timestamp(t) or pt.is_duration(t):
        dtype = np.int64
    else:
        dtype = t.to_pandas_dtype()
    values = _fixed(arr, dtype)
    bits = _bits01(arr) if arr.null_count else None
    if bits is not None:
        values = _masked(values, bits)
    if pt.is_floating(t):
        if np.isnan(values.min()):  # min() propagates NaN; NaN must become a null
            return False
        signed = np.dtype(f"i{values.dtype.itemsize}")
        if values.view(signed).min() == np.iinfo(signed).min:  # the bits of -0.0
            fixed = _scratch.get("negzero", len(values), values.dtype)
            np.copyto(fixed, values)
            fixed[fixed == 0.0] = 0.0
            values = fixed
        _emit_validity(arr, bits, update)
        for part in _float_width(values):
            update(part)
        return True
    _emit_validity(arr, bits, update)
    if pt.is_date32(t):
        update(values)
        return True
    width, data = _int_like(values, t)
    update(WIDTH[width])
    update(data)
    return True


def _int_like(values: np.ndarray, t: pa.DataType) -> tuple[int, np.ndarray]:
    """(width, values) by the rule of ``canonical._int_like_parts``, on scratch buffers."""
    n = len(values)
    if pt.is_integer(t):
        if t.bit_width < 32 or t == pa.int32():
            return 4, _as(values, np.int32, "narrow")
        if t == pa.uint64():
            if values.max() > INT64_MAX:
                wide = np.zeros((n, 2), dtype=np.uint64)
                wide[:, 0] = values
                return 16, wide
            values = values.view(np.int64)
        low, high = int(values.min()), int(values.max())
    else:
        factor = UNIT_NS[t.unit]
        low, high = int(values.min()), int(values.max())
        if factor != 1:
            if low < -((2**63) // factor) or high > INT64_MAX // factor:
                return 16, _mul_wide(values, factor)
            scaled = _scratch.get("scaled", n, np.int64)
            np.multiply(values, np.int64(factor), out=scaled)
            values, low, high = scaled, low * factor, high * factor
    if low >= INT32_MIN and high <= INT32_MAX:
        return 4, _as(values, np.int32, "narrow")
    return 8, _as(values, np.int64, "wide")


def _as(values: np.ndarray, dtype: Any, name: str) -> np.ndarray:
    if values.dtype == dtype:
        return values
    out = _scratch.get(name, len(values), dtype)
    np.copyto(out, values, casting="unsafe")
    return out


# --- strings and binaries -----------------------------------------------------------------------


def _var_block(arr: pa.Array, update: Emit) -> bool:
    n = len(arr)
    offsets = _fixed_offsets(arr)
    lengths = _scratch.get("lengths", n, offsets.dtype)
    np.subtract(offsets[1:], offsets[:-1], out=lengths)
    bits = None
    if arr.null_count:
        bits = _bits01(arr)
        kept = _masked(lengths, bits)
        if int(kept.sum()) != int(lengths.sum()):
            return False  # bytes under null slots: the reference path leaves them out
    _emit_validity(arr, bits, update)
    if lengths.dtype == np.int64 and n and lengths.max() >= 2**32:
        update(WIDTH[8])
        update(lengths)
    else:
        update(WIDTH[4])
        update(_as(lengths, np.uint32, "lengths32") if lengths.dtype == np.int64 else lengths)
    first, last = int(offsets[0]), int(offsets[-1])
    if last > first:
        update(arr.buffers()[2].slice(first, last - first))
    return True
