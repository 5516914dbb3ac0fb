"""Inclusion and consistency proofs, and their standalone verification.

Verification needs nothing from the ledger: the proof, the record (for inclusion), the
signed checkpoint(s) and the ledger's public key. That is what lets another
organisation check a record offline.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from pedigree.errors import ProofError, RecordError
from pedigree.ledger import merkle
from pedigree.ledger.canonical import canonical_json, parse_json
from pedigree.ledger.checkpoint import SignedCheckpoint, verify_checkpoint

_HEX32 = r"^[0-9a-f]{64}$"


class InclusionProof(BaseModel):
    """The audit path showing leaf ``leaf_index`` (record ``seq``) is in a tree of ``tree_size``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seq: int = Field(ge=1)
    leaf_index: int = Field(ge=0)
    tree_size: int = Field(ge=1)
    hashes: list[str] = Field(default_factory=list)


class ConsistencyProof(BaseModel):
    """Shows the tree of ``second_size`` records extends the tree of ``first_size`` unchanged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_size: int = Field(ge=0)
    second_size: int = Field(ge=0)
    hashes: list[str] = Field(default_factory=list)


class RecordEvidence(BaseModel):
    """A record with its inclusion proof and the signed checkpoint it is proved against."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["pedigree.inclusion_proof/1"] = "pedigree.inclusion_proof/1"
    record: dict[str, Any]
    proof: InclusionProof
    checkpoint: SignedCheckpoint


class ConsistencyEvidence(BaseModel):
    """A consistency proof with the two signed checkpoints it links."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["pedigree.consistency_proof/1"] = "pedigree.consistency_proof/1"
    proof: ConsistencyProof
    first: SignedCheckpoint
    second: SignedCheckpoint


def _hashes(values: list[str]) -> list[bytes]:
    try:
        out = [bytes.fromhex(v) for v in values]
    except ValueError:
        out = []
    if len(out) != len(values) or any(len(h) != 32 for h in out):
        raise ProofError("proof holds a hash that is not 64 hex digits")
    return out


def record_bytes(record: bytes | str | Mapping[str, Any]) -> bytes:
    """The canonical bytes of a record given as bytes, JSON text or a parsed object."""
    if type(record) is dict:
        with contextlib.suppress(RecordError):
            return canonical_json(record)  # already of JSON types (as a verifier reads them)
    if not isinstance(record, bytes | str):
        record = json.dumps(record)  # re-read below, so numbers get canonical types
    try:
        parsed = parse_json(record)
    except ValueError as exc:
        raise ProofError(f"record is not JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise ProofError("record must be a JSON object")
    return canonical_json(parsed)


def verify_inclusion(
    record: bytes | str | Mapping[str, Any],
    proof: InclusionProof,
    checkpoint: SignedCheckpoint,
    public_key: Ed25519PublicKey | bytes | str,
) -> None:
    """Raise ``ProofError`` unless ``record`` is leaf ``proof.leaf_index`` under ``checkpoint``."""
    verify_checkpoint(checkpoint, public_key)
    check_inclusion(record_bytes(record), proof, checkpoint)


def check_inclusion(data: bytes, proof: InclusionProof, checkpoint: SignedCheckpoint) -> None:
    """``verify_inclusion`` for a checkpoint whose signature is already verified and a
    record already in canonical bytes (a bundle checks many records under one head)."""
    if proof.tree_size != checkpoint.size:
        raise ProofError(
            f"proof is for a tree of size {proof.tree_size}, checkpoint covers {checkpoint.size}"
        )
    if proof.seq != proof.leaf_index + 1:
        raise ProofError(f"record seq {proof.seq} does not sit at leaf {proof.leaf_index}")
    seq = json.loads(data).get("seq")
    if seq != proof.seq:
        raise ProofError(f"the record carries seq {seq}, the proof is for seq {proof.seq}")
    ok = merkle.verify_inclusion(
        merkle.leaf_hash(data),
        proof.leaf_index,
        proof.tree_size,
        _hashes(proof.hashes),
        checkpoint.root,
    )
    if not ok:
        raise ProofError(
            f"record {proof.seq} does not verify against the checkpoint of size {checkpoint.size}"
            " (record altered, or proof wrong)"
        )


def verify_consistency(
    proof: ConsistencyProof,
    first: SignedCheckpoint,
    second: SignedCheckpoint,
    public_key: Ed25519PublicKey | bytes | str,
) -> None:
    """Raise ``ProofError`` unless ``second`` extends ``first`` without changing it."""
    verify_checkpoint(first, public_key)
    verify_checkpoint(second, public_key)
    if (proof.first_size, proof.second_size) != (first.size, second.size):
        raise ProofError(
            f"proof links sizes {proof.first_size}→{proof.second_size}, "
            f"checkpoints are {first.size}→{second.size}"
        )
    if first.checkpoint.log_id != second.checkpoint.log_id:
        raise ProofError("the two checkpoints belong to different ledgers")
    ok = merkle.verify_consistency(
        first.size, second.size, _hashes(proof.hashes), first.root, second.root
    )
    if not ok:
        raise ProofError(
            f"the ledger at size {second.size} does not extend the ledger at size {first.size}"
            " (history rewritten, or proof wrong)"
        )


def verify_evidence(
    evidence: RecordEvidence | ConsistencyEvidence, public_key: Ed25519PublicKey | bytes | str
) -> None:
    """Verify a proof document as ``pedigree prove`` writes it."""
    if isinstance(evidence, RecordEvidence):
        verify_inclusion(evidence.record, evidence.proof, evidence.checkpoint, public_key)
    else:
        verify_consistency(evidence.proof, evidence.first, evidence.second, public_key)
