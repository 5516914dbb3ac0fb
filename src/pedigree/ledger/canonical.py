"""Canonical JSON (RFC 8785, JCS): the exact bytes that get hashed and signed.

Two parties who hold the same record as parsed JSON produce the same bytes, so a
verifier never needs our database, only the record.

The ``rfc8785`` package is the reference; it is pure Python and costs ~35 µs for a
typical record, more than everything else an append does. Most records are in a subset
where ``orjson`` with sorted keys writes exactly the same bytes (as does the standard
library's C encoder, five times slower): strings whose object keys sort the same by
UTF-16 unit and by code point (keys below U+D800), integers within ±(2**53 - 1), and
floats whose shortest form needs no exponent and is not integral (``0.25``; RFC 8785
takes its digits from the same shortest repr). Such values are encoded by ``orjson``;
anything else (``1e-7``, ``100.0``, astral keys, NaN, lone
surrogates, big integers) goes to ``rfc8785``. ``orjson`` writes first, and when its
output is all ASCII, so are the keys, and only the numbers need a look. A property test
holds both paths equal.
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
import rfc8785

from pedigree.errors import RecordError


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of ``value``; NaN, infinities and unsafe integers are refused."""
    try:
        out = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        out = None  # lone surrogates and the like: let rfc8785 name the problem
    # (All-ASCII output: every key sorts the same by UTF-16 unit and by code point.)
    if out is not None and (_plain_numbers(value) if out.isascii() else _plain(value)):
        return out
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeError) as exc:
        raise RecordError(f"record cannot be canonicalised (RFC 8785): {exc}") from None
    except (TypeError, AttributeError) as exc:  # non-JSON value
        raise RecordError(f"record holds a value that is not JSON: {exc}") from None


def _plain(value: Any) -> bool:
    """Whether ``orjson`` writes ``value`` byte for byte as RFC 8785 does (module doc).

    (Strings, ``None`` and booleans, most of a record, are passed over without a call.)
    """
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or not (key.isascii() or max(key) < "\ud800"):
                return False
            if type(item) not in _LEAVES and not _plain(item):
                return False
        return True
    if kind is list:
        return all(type(item) in _LEAVES or _plain(item) for item in value)
    return kind in _LEAVES or _plain_number(value)


def _plain_numbers(value: Any) -> bool:
    """``_plain`` for a value whose keys are known to be plain (its JSON is all ASCII):
    only its other leaves are looked at."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return kind in _LEAVES or _plain_number(value)
    for item in value.values() if kind is dict else value:
        kind = type(item)
        if kind in _LEAVES:
            continue
        if not (_plain_numbers(item) if kind is dict or kind is list else _plain_number(item)):
            return False
    return True


def _plain_number(value: Any) -> bool:
    kind = type(value)
    if kind is int:
        return -_SAFE_INT <= value <= _SAFE_INT
    if kind is float:
        text = repr(value)
        return math.isfinite(value) and "e" not in text and not text.endswith(".0")
    return False  # (not JSON: rfc8785 names it)


_LEAVES = frozenset({str, bool, type(None)})
_SAFE_INT = 2**53 - 1


def parse_json(text: str | bytes) -> Any:
    """Parse JSON so that ``canonical_json`` gives back the same bytes.

    RFC 8785 writes a float with an integral value as an integer (``1e16`` becomes
    ``10000000000000000``); parsed back, that is an int beyond the safe range, which
    canonicalisation refuses. Such numbers can only have been floats, so they are
    read as floats.
    """
    return json.loads(text, parse_int=_parse_int)


def _parse_int(text: str) -> int | float:
    value = int(text)
    return value if -_SAFE_INT <= value <= _SAFE_INT else float(value)


def envelope_json(*, actor: str, body: bytes, schema: str, seq: int, time: str) -> bytes:
    """Canonical bytes of the log envelope ``{actor, body, schema, seq, time}``.

    ``body`` is already canonical, so it is spliced in rather than re-encoded; the keys
    are written in RFC 8785 order. Equal to ``canonical_json`` of the parsed envelope
    (a property test holds it to that).
    """
    return Envelope(actor, time)(body=body, schema=schema, seq=seq)


class Envelope:
    """Builds envelopes for one writer at one time; the fixed parts are encoded once."""

    def __init__(self, actor: str, time: str) -> None:
        self._actor = b'{"actor":' + canonical_json(actor) + b',"body":'
        self._time = b',"time":' + canonical_json(time) + b"}"
        self._schemas: dict[str, bytes] = {}

    def __call__(self, *, body: bytes, schema: str, seq: int) -> bytes:
        return b"".join((self._actor, body, self._tail(schema, seq)))

    def body_of(self, data: bytes, *, schema: str, seq: int) -> bytes | None:
        """The body bytes of ``data`` if it is this writer's envelope of record ``seq``
        (``None`` otherwise): reading a body back without parsing it."""
        tail = self._tail(schema, seq)
        fits = len(data) > len(self._actor) + len(tail)
        if fits and data.startswith(self._actor) and data.endswith(tail):
            return data[len(self._actor) : -len(tail)]
        return None

    def _tail(self, schema: str, seq: int) -> bytes:
        schema_part = self._schemas.get(schema)
        if schema_part is None:
            schema_part = self._schemas[schema] = (
                b',"schema":' + canonical_json(schema) + b',"seq":'
            )
        return b"".join((schema_part, str(int(seq)).encode(), self._time))
