"""Revocation: a certificate withdrawn by a later record in the same ledger.

``revoke`` appends a ``revocation`` annotation naming the certificate by the SHA-256 of its
signed statement. A bundle cannot know about a later revocation by itself, so checking
needs the issuing ledger: ``revocation_check`` takes its current signed head, proves it
extends the bundle's checkpoint (a consistency proof: the ledger did not rewrite history
under the certificate) and proves any revocation record is in it (an inclusion proof),
all verified with the trusted ledger key. The ledger answers with one status document
(``revocation_status``), read from a store or fetched from a Pedigree server
(``GET /api/v1/certificates/{sha256}/revocation``); ``check_revocation`` trusts nothing in
it but what the ledger key signed, so a server cannot hide a revocation or rewrite history
without the check failing.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from pedigree.certify.certificate import payload_of
from pedigree.errors import NotFoundError, PedigreeError, RecordError
from pedigree.ledger.checkpoint import SignedCheckpoint
from pedigree.ledger.proofs import ConsistencyEvidence, RecordEvidence, verify_evidence
from pedigree.model import Annotation, LogEntry
from pedigree.store import Ledger


def statement_digest(bundle: dict[str, Any]) -> str:
    """The certificate's id: hex SHA-256 of its signed statement bytes."""
    return hashlib.sha256(payload_of(bundle)).hexdigest()


def certificate_entry(ledger: Ledger, digest: str) -> LogEntry | None:
    """The ``certificate`` record this ledger appended when it issued ``digest``, if any."""
    for entry in ledger.entries(types=["annotation"], newest_first=True):
        body = entry.body
        if (
            isinstance(body, Annotation)
            and body.kind == "certificate"
            and body.body.get("statement_sha256") == digest
        ):
            return entry
    return None


def find_certificate(ledger: Ledger, digest: str) -> Annotation:
    entry = certificate_entry(ledger, digest)
    if entry is None:
        raise NotFoundError(f"no certificate {digest[:16]}… was issued from this ledger")
    assert isinstance(entry.body, Annotation)
    return entry.body


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


def revocation_status(ledger: Ledger, digest: str, since_size: int) -> dict[str, Any]:
    """What the issuing ledger says of a certificate now: a consistency proof from the
    checkpoint it was issued against to the current head, and each revocation of it with
    its inclusion proof under that head. The server serves this document as is."""
    consistency = ledger.prove_consistency(since_size)
    head = consistency.second
    return {
        "log_id": ledger.log_id,
        "statement_sha256": digest,
        "consistency": consistency.model_dump(mode="json"),
        "revocations": [
            ledger.prove(entry.seq, tree_size=head.size).model_dump(mode="json")
            for entry in _revocations(ledger, digest)
        ],
    }


def check_revocation(
    bundle: dict[str, Any], status: dict[str, Any], ledger_key_pem: str | None
) -> tuple[bool, str]:
    """(not revoked, why): check a ledger's revocation status document against the bundle
    with the trusted ledger key alone, so it does not matter who delivered it."""
    try:
        issued = SignedCheckpoint.model_validate(bundle.get("checkpoint"))
    except ValueError:
        return False, "the bundle's checkpoint is malformed"
    if not ledger_key_pem:
        return False, "the bundle carries no ledger public key"
    if status.get("log_id") != issued.checkpoint.log_id:
        return False, f"the ledger given is another ledger ({status.get('log_id')}), not the issuer"
    digest = statement_digest(bundle)
    try:
        consistency = ConsistencyEvidence.model_validate(status.get("consistency"))
        if consistency.first.model_dump() != issued.model_dump():
            return False, "the issuing ledger's checkpoint of that size differs from the bundle's"
        verify_evidence(consistency, ledger_key_pem)
        head = consistency.second
        for item in status.get("revocations") or []:
            evidence = RecordEvidence.model_validate(item)
            verify_evidence(evidence, ledger_key_pem)
            body = evidence.record.get("body") or {}
            if (
                evidence.checkpoint.model_dump() != head.model_dump()
                or body.get("kind") != "revocation"
                or (body.get("body") or {}).get("statement_sha256") != digest
            ):
                return False, "the ledger's answer holds a revocation proof that does not fit"
            return False, (
                f"certificate revoked at record {evidence.proof.seq} "
                f"({str(evidence.record.get('time'))[:10]}): {body['body'].get('reason')}"
            )
    except PedigreeError as exc:
        return False, f"cannot check revocation: {exc}"
    except ValueError as exc:
        return False, f"the ledger's answer is malformed: {str(exc).splitlines()[0]}"
    return (
        True,
        f"not revoked as of the ledger's head of {head.size:,} records (consistent with the bundle's)",
    )


def revocation_check(
    bundle: dict[str, Any], ledger: Ledger | str, ledger_key_pem: str | None
) -> tuple[bool, str]:
    """(not revoked, why) against the issuing ledger: a store, or a server's URL."""
    try:
        issued = SignedCheckpoint.model_validate(bundle.get("checkpoint"))
    except ValueError:
        return False, "the bundle's checkpoint is malformed"
    digest = statement_digest(bundle)
    try:
        if isinstance(ledger, str):
            status = fetch_revocation_status(ledger, digest, issued.size)
        elif ledger.log_id != issued.checkpoint.log_id:
            return False, f"the ledger given is another ledger ({ledger.log_id}), not the issuer"
        else:
            status = revocation_status(ledger, digest, issued.size)
    except PedigreeError as exc:
        return False, f"cannot check revocation: {exc}"
    return check_revocation(bundle, status, ledger_key_pem)


def fetch_revocation_status(url: str, digest: str, since_size: int) -> dict[str, Any]:
    """GET the status document from a Pedigree server (``$PEDIGREE_TOKEN`` if it needs one)."""
    import httpx

    token = os.environ.get("PEDIGREE_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    address = f"{url.rstrip('/')}/api/v1/certificates/{digest}/revocation"
    try:
        response = httpx.get(
            address, params={"since_size": since_size}, headers=headers, timeout=30
        )
    except httpx.HTTPError as exc:
        raise PedigreeError(f"cannot reach the ledger at {url}: {exc}") from None
    if response.status_code != 200:
        try:
            detail = response.json().get("detail")
        except ValueError:
            detail = response.text[:200]
        raise PedigreeError(f"the ledger at {url} answered {response.status_code}: {detail}")
    try:
        status = response.json()
    except ValueError:
        raise PedigreeError(f"the ledger at {url} did not answer JSON") from None
    if not isinstance(status, dict):
        raise PedigreeError(f"the ledger at {url} answered something else than a status")
    return status
