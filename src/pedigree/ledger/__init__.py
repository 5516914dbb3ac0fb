"""Pure ledger logic, no I/O: canonical form, Merkle tree, checkpoints, proofs."""

from pedigree.ledger.canonical import canonical_json, envelope_json
from pedigree.ledger.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    key_id,
    load_public_key,
    public_key_pem,
    sign_checkpoint,
    verify_checkpoint,
)
from pedigree.ledger.merkle import leaf_hash, node_hash
from pedigree.ledger.proofs import (
    ConsistencyEvidence,
    ConsistencyProof,
    InclusionProof,
    RecordEvidence,
    verify_consistency,
    verify_evidence,
    verify_inclusion,
)

__all__ = [
    "Checkpoint",
    "ConsistencyEvidence",
    "ConsistencyProof",
    "InclusionProof",
    "RecordEvidence",
    "SignedCheckpoint",
    "canonical_json",
    "envelope_json",
    "key_id",
    "leaf_hash",
    "load_public_key",
    "node_hash",
    "public_key_pem",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_consistency",
    "verify_evidence",
    "verify_inclusion",
]
