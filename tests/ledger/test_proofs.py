"""Standalone verification of checkpoints and proofs: needs only proof, record, checkpoint, key."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from pedigree.errors import ProofError
from pedigree.ledger import (
    canonical_json,
    leaf_hash,
    merkle,
    public_key_pem,
    sign_checkpoint,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
)
from pedigree.ledger.proofs import ConsistencyProof, InclusionProof

KEY = Ed25519PrivateKey.generate()
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def records(n: int) -> list[dict]:
    return [
        {
            "actor": "a",
            "body": {"x": i, "big": 1e16},
            "schema": "pedigree.agent/1",
            "seq": i + 1,
            "time": "t",
        }
        for i in range(n)
    ]


def tree(n: int):  # type: ignore[no-untyped-def]
    recs = records(n)
    leaves = [leaf_hash(canonical_json(r)) for r in recs]

    def fetch(parts: list[merkle.Perfect]) -> dict[merkle.Perfect, bytes]:
        return {(lvl, i): merkle.root(leaves[i << lvl : (i + 1) << lvl]) for lvl, i in parts}

    return recs, leaves, fetch


def inclusion(n: int, seq: int):  # type: ignore[no-untyped-def]
    recs, leaves, fetch = tree(n)
    hashes = merkle.resolve_ranges(merkle.inclusion_ranges(seq - 1, n), fetch)
    proof = InclusionProof(
        seq=seq, leaf_index=seq - 1, tree_size=n, hashes=[h.hex() for h in hashes]
    )
    cp = sign_checkpoint(KEY, log_id="L", size=n, root=merkle.root(leaves), time=NOW)
    return recs[seq - 1], proof, cp


def test_inclusion_verifies_with_only_the_public_key_pem() -> None:
    record, proof, cp = inclusion(13, 6)
    pem = public_key_pem(KEY.public_key())
    verify_inclusion(record, proof, cp, pem)
    verify_inclusion(json.dumps(record), proof, cp, pem.encode())  # JSON text works too


def test_a_record_with_an_integral_float_still_verifies_after_a_json_round_trip() -> None:
    record, proof, cp = inclusion(5, 2)
    text = canonical_json(record).decode()
    assert '"big":10000000000000000' in text  # RFC 8785 writes 1e16 as an integer
    verify_inclusion(json.loads(text), proof, cp, KEY.public_key())


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda r, p, c: ({**r, "actor": "mallory"}, p, c), "does not verify"),
        (lambda r, p, c: ({**r, "seq": 7}, p, c), "carries seq 7"),
        (lambda r, p, c: (r, p.model_copy(update={"tree_size": 12}), c), "tree of size 12"),
        (
            lambda r, p, c: (r, p.model_copy(update={"hashes": ["00" * 32, *p.hashes[1:]]}), c),
            "does not verify",
        ),
        (lambda r, p, c: (r, p.model_copy(update={"hashes": ["zz"]}), c), "64 hex digits"),
        (
            lambda r, p, c: (
                r,
                p,
                c.model_copy(update={"checkpoint": c.checkpoint.model_copy(update={"size": 14})}),
            ),
            "signature does not verify",
        ),
    ],
)
def test_any_change_is_caught(mutate, reason: str) -> None:  # type: ignore[no-untyped-def]
    record, proof, cp = mutate(*inclusion(13, 6))
    with pytest.raises(ProofError, match=reason):
        verify_inclusion(record, proof, cp, KEY.public_key())


def test_a_checkpoint_from_another_key_is_refused() -> None:
    _record, _proof, cp = inclusion(4, 1)
    other = Ed25519PrivateKey.generate()
    with pytest.raises(ProofError, match="not by the trusted key"):
        verify_checkpoint(cp, other.public_key())


def test_consistency_between_signed_checkpoints() -> None:
    _, leaves, fetch = tree(20)
    old = sign_checkpoint(KEY, log_id="L", size=7, root=merkle.root(leaves[:7]), time=NOW)
    new = sign_checkpoint(KEY, log_id="L", size=20, root=merkle.root(leaves), time=NOW)
    hashes = [h.hex() for h in merkle.resolve_ranges(merkle.consistency_ranges(7, 20), fetch)]
    proof = ConsistencyProof(first_size=7, second_size=20, hashes=hashes)
    verify_consistency(proof, old, new, KEY.public_key())
    forged = sign_checkpoint(KEY, log_id="L", size=7, root=merkle.root(leaves[1:8]), time=NOW)
    with pytest.raises(ProofError, match="does not extend"):
        verify_consistency(proof, forged, new, KEY.public_key())
    elsewhere = sign_checkpoint(KEY, log_id="M", size=20, root=merkle.root(leaves), time=NOW)
    with pytest.raises(ProofError, match="different ledgers"):
        verify_consistency(proof, old, elsewhere, KEY.public_key())
