"""DSSE v1 envelopes: the spec's vectors, both algorithms, and every kind of rejection."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from pedigree.certify import EnvelopeError, Signer, dsse, pae, trusted_keys
from pedigree.errors import ProofError

IN_TOTO = dsse.IN_TOTO_PAYLOAD_TYPE
SIGNERS = {
    "ed25519": Signer(Ed25519PrivateKey.generate(), name="ed"),
    "ecdsa-p256": Signer(ec.generate_private_key(ec.SECP256R1()), name="ec"),
}
TRUSTED = trusted_keys([s.public_key for s in SIGNERS.values()])


def test_pae_matches_the_spec_example() -> None:
    # protocol.md, "Test Vectors"
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert pae(IN_TOTO, b"") == b"DSSEv1 28 application/vnd.in-toto+json 0 "
    # LEN counts UTF-8 bytes, not characters
    assert pae("ä", b"x") == b"DSSEv1 2 \xc3\xa4 1 x"


def test_the_spec_ecdsa_signature_verifies_over_our_pae() -> None:
    """protocol.md's P-256 example (raw r||s there; DER here) signs exactly our PAE bytes."""
    public = ec.EllipticCurvePublicNumbers(
        46950820868899156662930047687818585632848591499744589407958293238635476079160,
        5640078356564379163099075877009565129882514886557779369047442380624545832820,
        ec.SECP256R1(),
    ).public_key()
    raw = base64.b64decode(
        "A3JqsQGtVsJ2O2xqrI5IcnXip5GToJ3F+FnZ+O88SjtR6rDAajabZKciJTfUiHqJPcIAriEGAHTVeCUjW2JIZA=="
    )
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(
        der, pae("http://example.com/HelloWorld", b"hello world"), ec.ECDSA(hashes.SHA256())
    )
    envelope = {
        "payload": "aGVsbG8gd29ybGQ=",
        "payloadType": "http://example.com/HelloWorld",
        "signatures": [
            {"sig": base64.b64encode(der).decode()}
        ],  # no keyid: every trusted key is tried
    }
    verified = dsse.verify(envelope, trusted_keys([public]))
    assert verified.payload == b"hello world"


def test_ed25519_signature_is_deterministic_and_matches_a_known_value() -> None:
    """RFC 8032 test key 1 over an in-toto payload: the value other DSSE tooling computes."""
    key = Ed25519PrivateKey.from_private_bytes(
        bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    )
    envelope = dsse.sign(b'{"_type":"https://in-toto.io/Statement/v1"}', IN_TOTO, Signer(key))
    assert envelope["payload"] == "eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ=="
    assert envelope["signatures"][0]["sig"] == (
        "2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA=="
    )


@pytest.mark.parametrize("algorithm", sorted(SIGNERS))
def test_sign_and_verify(algorithm: str) -> None:
    signer = SIGNERS[algorithm]
    envelope = dsse.sign(b'{"a": 1}', IN_TOTO, signer)
    assert set(envelope) == {"payloadType", "payload", "signatures"}
    assert envelope["signatures"][0]["keyid"] == signer.key_id
    verified = dsse.verify(envelope, TRUSTED, payload_types={IN_TOTO})
    assert verified.payload_type == IN_TOTO
    assert verified.payload == b'{"a": 1}'
    assert verified.key_ids == (signer.key_id,)
    if algorithm == "ed25519":
        assert len(base64.b64decode(envelope["signatures"][0]["sig"])) == 64
    else:  # DER SEQUENCE of two INTEGERs
        assert base64.b64decode(envelope["signatures"][0]["sig"])[0] == 0x30


def test_url_safe_and_unpadded_base64_are_accepted() -> None:
    envelope = dsse.sign(b"\xfb\xff\xbf>?", IN_TOTO, SIGNERS["ed25519"])
    envelope["payload"] = base64.urlsafe_b64encode(b"\xfb\xff\xbf>?").decode().rstrip("=")
    sig = envelope["signatures"][0]
    sig["sig"] = base64.urlsafe_b64encode(base64.b64decode(sig["sig"])).decode().rstrip("=")
    assert dsse.verify(envelope, TRUSTED).payload == b"\xfb\xff\xbf>?"


def signed(algorithm: str = "ed25519") -> dict[str, Any]:
    return dsse.sign(b'{"subject": "x"}', IN_TOTO, SIGNERS[algorithm])


def rejected(envelope: Any, reason: str, message: str, **kw: Any) -> None:
    with pytest.raises(EnvelopeError, match=message) as info:
        dsse.verify(envelope, TRUSTED, **kw)
    assert info.value.reason == reason
    assert isinstance(info.value, ProofError)


@pytest.mark.parametrize("algorithm", sorted(SIGNERS))
def test_tampered_payload_is_a_bad_signature(algorithm: str) -> None:
    envelope = signed(algorithm)
    envelope["payload"] = base64.b64encode(b'{"subject": "y"}').decode()
    rejected(envelope, "bad-signature", "signature 1: bad signature")


@pytest.mark.parametrize("algorithm", sorted(SIGNERS))
def test_tampered_signature_is_a_bad_signature(algorithm: str) -> None:
    envelope = signed(algorithm)
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[-1] ^= 0x01
    envelope["signatures"][0]["sig"] = base64.b64encode(sig).decode()
    rejected(envelope, "bad-signature", "bad signature")


def test_swapped_payload_type_is_a_bad_signature() -> None:
    envelope = signed()
    envelope["payloadType"] = "application/vnd.example.other+json"
    rejected(envelope, "bad-signature", "bad signature")


def test_untrusted_key() -> None:
    stranger = Signer(Ed25519PrivateKey.generate())
    envelope = dsse.sign(b"{}", IN_TOTO, stranger)
    rejected(envelope, "untrusted-key", f"untrusted key {stranger.key_id[:16]}")
    # a forged keyid claiming a trusted key does not help the stranger
    envelope["signatures"][0]["keyid"] = SIGNERS["ed25519"].key_id
    rejected(envelope, "bad-signature", "bad signature")
    # nor does leaving the keyid out
    del envelope["signatures"][0]["keyid"]
    rejected(envelope, "bad-signature", "bad signature .*or signed by another key")


def test_one_trusted_signature_among_untrusted_ones_suffices() -> None:
    stranger = dsse.sign(b"{}", IN_TOTO, Signer(Ed25519PrivateKey.generate()))
    ours = dsse.sign(b"{}", IN_TOTO, SIGNERS["ecdsa-p256"])
    envelope = {**ours, "signatures": stranger["signatures"] + ours["signatures"]}
    assert dsse.verify(envelope, TRUSTED).key_ids == (SIGNERS["ecdsa-p256"].key_id,)


def test_threshold_counts_distinct_keys() -> None:
    one, two = signed("ed25519"), signed("ecdsa-p256")

    def combined(*sigs: dict[str, Any], keyids: bool = True) -> dict[str, Any]:
        entries = [dict(sig) if keyids else {"sig": sig["sig"]} for sig in sigs]
        return {**one, "signatures": entries}

    a, b = one["signatures"][0], two["signatures"][0]
    for keyids in (True, False):  # without key ids each signature is tried on every key
        assert len(dsse.verify(combined(a, b, keyids=keyids), TRUSTED, threshold=2).key_ids) == 2
        rejected(
            combined(a, a, keyids=keyids),
            "too-few-signers",
            r"need 2 distinct trusted keys, 1 verified",
            threshold=2,
        )


def test_unsupported_payload_type() -> None:
    rejected(signed(), "unsupported-payload-type", "unsupported payload type", payload_types={"x"})


@pytest.mark.parametrize(
    ("mutate", "reason", "message"),
    [
        (lambda e: "not an object", "malformed", "expected a JSON object"),
        (
            lambda e: {k: v for k, v in e.items() if k != "payloadType"},
            "malformed",
            "has no 'payloadType'",
        ),
        (lambda e: {**e, "payloadType": 7}, "malformed", "'payloadType' must be a string"),
        (lambda e: {**e, "payload": None}, "malformed", "'payload' must be a string"),
        (lambda e: {**e, "signatures": []}, "malformed", "'signatures' must be a non-empty list"),
        (
            lambda e: {**e, "signatures": {"sig": "AA=="}},
            "malformed",
            "'signatures' must be a non-empty list",
        ),
        (lambda e: {**e, "signatures": ["AA=="]}, "malformed", "signature 1 is not an object"),
        (lambda e: {**e, "signatures": [{"keyid": "k"}]}, "malformed", "signature 1 has no 'sig'"),
        (
            lambda e: {**e, "signatures": [{"sig": "AA==", "keyid": 5}]},
            "malformed",
            "'keyid' must be a string",
        ),
        (lambda e: {**e, "payload": "not base64!"}, "bad-base64", "payload is not valid base64"),
        (lambda e: {**e, "payload": "AAAAA"}, "bad-base64", "payload is not valid base64"),
        (
            lambda e: {**e, "signatures": [{"sig": "%%%"}]},
            "bad-base64",
            "signature 1 'sig' is not valid base64",
        ),
    ],
)
def test_malformed_envelopes(mutate: Any, reason: str, message: str) -> None:
    rejected(mutate(copy.deepcopy(signed())), reason, message)


@settings(max_examples=60, deadline=None)
@given(
    payload=st.binary(max_size=512),
    payload_type=st.text(max_size=40),
    algorithm=st.sampled_from(sorted(SIGNERS)),
    data=st.data(),
)
def test_round_trip_and_any_flipped_byte_fails(
    payload: bytes, payload_type: str, algorithm: str, data: st.DataObject
) -> None:
    envelope = dsse.sign(payload, payload_type, SIGNERS[algorithm])
    verified = dsse.verify(envelope, TRUSTED)
    assert (verified.payload_type, verified.payload) == (payload_type, payload)

    sig = base64.b64decode(envelope["signatures"][0]["sig"])
    target = data.draw(st.sampled_from(["payload", "sig"] if payload else ["sig"]))
    original = payload if target == "payload" else sig
    # ECDSA signatures vary in length from run to run: draw a position, not an index
    index = data.draw(st.integers(0, 2**16)) % len(original)
    flipped = bytearray(original)
    flipped[index] ^= data.draw(st.integers(1, 255))
    tampered = copy.deepcopy(envelope)
    if target == "payload":
        tampered["payload"] = base64.b64encode(bytes(flipped)).decode()
    else:
        tampered["signatures"][0]["sig"] = base64.b64encode(bytes(flipped)).decode()
    with pytest.raises(EnvelopeError, match="bad signature"):
        dsse.verify(tampered, TRUSTED)
