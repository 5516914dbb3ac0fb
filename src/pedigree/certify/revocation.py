"""Revocation: a certificate withdrawn by a later record in the same ledger.

``revoke`` appends a ``revocation`` annotation naming the certificate by the SHA-256 of its
signed statement. A bundle cannot know about a later revocation by itself, so checking
needs the issuing ledger: ``revocation_check`` takes its current signed head, proves it
extends the bundle's checkpoint (a consistency proof: the ledger did not rewrite history
under the certificate) and proves any revocation record is in it (an inclusion proof),
all verified with the trusted ledger key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pedigree.certify.certificate import payload_of
from pedigree.errors import NotFoundError, PedigreeError, RecordError
from pedigree.ledger.checkpoint import SignedCheckpoint
from pedigree.ledger.proofs import verify_evidence
from pedigree.model import Annotation
from pedigree.store import Ledger


def statement_digest(bundle: dict[str, Any]) -> str:
    """The certificate's id: hex SHA-256 of its signed statement bytes."""
    return hashlib.sha256(payload_of(bundle)).hexdigest()


def find_certificate(ledger: Ledger, digest: str) -> Annotation:
    for entry in ledger.entries(types=["annotation"], newest_first=True):
        body = entry.body
        if (
            isinstance(body, Annotation)
            and body.kind == "certificate"
            and body.body.get("statement_sha256") == digest
        ):
            return body
    raise NotFoundError(f"no certificate {digest[:16]}… was issued from this ledger")


def revoke(ledger: Ledger, digest: str, reason: str) -> Annotation:
    """Append the revocation of certificate ``digest`` (once; a second is refused)."""
    if not reason.strip():
        raise RecordError("a revocation needs a reason")
    certificate = find_certificate(ledger, digest)
    if _revocations(ledger, digest):
        raise RecordError(f"certificate {digest[:16]}… is already revoked")
    revocation = Annotation(
        target=certificate.target,
        kind="revocation",
        body={
            "statement_sha256": digest,
            "certificate_annotation_id": str(certificate.annotation_id),
            "reason": reason.strip(),
        },
    )
    ledger.append(revocation)
    return revocation


def _revocations(ledger: Ledger, digest: str) -> list[Any]:
    return [
        entry
        for entry in ledger.entries(types=["annotation"])
        if isinstance(entry.body, Annotation)
        and entry.body.kind == "revocation"
        and entry.body.body.get("statement_sha256") == digest
    ]


def revocation_check(
    bundle: dict[str, Any], ledger: Ledger, ledger_key_pem: str
) -> tuple[bool, str]:
    """(not revoked, why) against the issuing ledger's current signed head."""
    try:
        issued = SignedCheckpoint.model_validate(bundle.get("checkpoint"))
    except ValueError:
        return False, "the bundle's checkpoint is malformed"
    if issued.checkpoint.log_id != ledger.log_id:
        return False, f"the ledger given is another ledger ({ledger.log_id}), not the issuer"
    try:
        consistency = ledger.prove_consistency(issued.size)
        if consistency.first.model_dump() != issued.model_dump():
            return False, "the issuing ledger's checkpoint of that size differs from the bundle's"
        verify_evidence(consistency, ledger_key_pem)
        head = consistency.second
        digest = statement_digest(bundle)
        for entry in _revocations(ledger, digest):
            evidence = ledger.prove(entry.seq, tree_size=head.size)
            verify_evidence(evidence, ledger_key_pem)
            return False, (
                f"certificate revoked at record {entry.seq} ({entry.time:%Y-%m-%d}): "
                f"{entry.body.body.get('reason')}"
            )
    except PedigreeError as exc:
        return False, f"cannot check revocation: {exc}"
    return (
        True,
        f"not revoked as of the ledger's head of {head.size:,} records (consistent with the bundle's)",
    )
