"""Canonical JSON (RFC 8785, JCS): the exact bytes that get hashed and signed.

Two parties who hold the same record as parsed JSON produce the same bytes, so a
verifier never needs our database, only the record.
"""

from __future__ import annotations

import json
from typing import Any

import rfc8785

from pedigree.errors import RecordError


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of ``value``; NaN, infinities and unsafe integers are refused."""
    try:
        return rfc8785.dumps(value)
    except rfc8785.CanonicalizationError as exc:
        raise RecordError(f"record cannot be canonicalised (RFC 8785): {exc}") from None
    except (TypeError, AttributeError) as exc:  # non-JSON value
        raise RecordError(f"record holds a value that is not JSON: {exc}") from None


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
        schema_part = self._schemas.get(schema)
        if schema_part is None:
            schema_part = self._schemas[schema] = (
                b',"schema":' + canonical_json(schema) + b',"seq":'
            )
        return b"".join((self._actor, body, schema_part, str(int(seq)).encode(), self._time))
