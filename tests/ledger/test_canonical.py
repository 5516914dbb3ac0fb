"""Canonical form (RFC 8785): stable, and the envelope splice equals full canonicalisation."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime

import pytest
import rfc8785
from hypothesis import example, given, settings
from hypothesis import strategies as st

from pedigree.errors import ProofError, RecordError
from pedigree.ledger.canonical import Envelope, canonical_json, envelope_json, parse_json


@dataclasses.dataclass
class Pair:
    a: int
    b: int


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


any_text = st.text(alphabet=st.characters(exclude_categories=()), max_size=6)
wide_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats()
    | any_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=1000)
@given(wide_values)
@example(1e16)
@example(1e-7)
@example(100.0)
@example(-0.0)
@example(5e-324)
@example(1.7976931348623157e308)
@example(123456789012345680000.0)
@example({"\ue000": 1, "\U0001f600": 2, "a": [0.25, -1.5]})
@example({"\ud800": "x"})
@example('\x7f\u2028\x00\x1f"\\')
@example(["ok", "\udc00 lone surrogate"])
def test_fast_path_writes_exactly_what_rfc8785_writes(value: object) -> None:
    """Values orjson can encode are encoded by orjson; every output must equal rfc8785's."""
    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeError):
        with pytest.raises(RecordError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


@given(json_values)
def test_canonical_form_is_stable_through_a_json_round_trip(value: object) -> None:
    once = canonical_json(value)
    assert canonical_json(parse_json(once)) == once


@given(
    st.dictionaries(st.text(), json_values, max_size=5),
    st.text(),
    st.text(),
    st.integers(1, 2**53 - 1),
)
def test_envelope_splice_equals_rfc8785(body: dict, actor: str, schema: str, seq: int) -> None:
    time = "2026-11-23T12:00:00.000000Z"
    spliced = envelope_json(
        actor=actor, body=canonical_json(body), schema=schema, seq=seq, time=time
    )
    assert spliced == rfc8785.dumps(
        {"actor": actor, "body": body, "schema": schema, "seq": seq, "time": time}
    )


@given(
    st.dictionaries(st.text(), json_values, max_size=5),
    st.text(),
    st.text(),
    st.integers(1, 2**53 - 1),
)
def test_the_body_is_read_back_from_an_envelope_without_parsing(
    body: dict, actor: str, schema: str, seq: int
) -> None:
    envelope = Envelope(actor, "2026-11-23T12:00:00.000000Z")
    data = envelope(body=canonical_json(body), schema=schema, seq=seq)
    assert envelope.body_of(data, schema=schema, seq=seq) == canonical_json(body)
    assert envelope.body_of(data, schema=schema, seq=seq + 1) is None  # another record
    assert envelope.body_of(data, schema=schema + "x", seq=seq) is None
    assert (
        Envelope(actor + "x", "2026-11-23T12:00:00.000000Z").body_of(data, schema=schema, seq=seq)
        is None
    )  # another writer


def test_key_order_is_utf16_as_rfc8785_requires() -> None:
    # U+E000 sorts after U+1F600 in code points but before it in UTF-16 code units.
    assert canonical_json({"\ue000": 1, "\U0001f600": 2}).startswith('{"\U0001f600"'.encode())


@pytest.mark.parametrize(
    "value",
    # (orjson itself writes the last three, as strings and an object: not JSON values)
    [
        float("nan"),
        float("inf"),
        2**60,
        {1: "x"},
        object(),
        datetime.now(UTC),
        uuid.uuid4(),
        Pair(1, 2),
    ],
)
def test_values_json_cannot_hold_are_refused(value: object) -> None:
    with pytest.raises(RecordError):
        canonical_json({"v": value})


@settings(max_examples=500)
@given(st.dictionaries(any_text, wide_values, max_size=5))
@example({"big": 2**53 + 1, "float": 1e16, "neg": -0.0, "exp": 1e-7})
@example({"\U0001f600": [100.0, 0.25], "n": None})
def test_a_parsed_record_gives_the_bytes_its_json_text_gives(record: dict) -> None:
    """A verifier hands ``record_bytes`` the parsed record (fast path) or its JSON text
    (numbers re-read): both must give the same canonical bytes, or both fail."""
    import json

    from pedigree.ledger.proofs import record_bytes

    try:
        text = json.dumps(record)
    except ValueError:  # a lone surrogate json cannot write
        return
    try:
        expected = record_bytes(text)
    except (RecordError, ProofError) as exc:
        with pytest.raises(type(exc)):
            record_bytes(record)
        return
    assert record_bytes(record) == expected
