"""Certificate chains across organisations.

When a dataset we use was certified by another organisation, ``accept`` verifies their
bundle with their trusted keys and records it in our ledger, attached to the dataset
version with the certified content (recorded from the certificate's subject when we
have not recorded it yet). A certificate we issue later names that upstream certificate
by the SHA-256 of its statement in the signed predicate (``sources[].certificate``) and
carries the upstream bundle itself (``bundle["upstream"]``), so verification walks the
chain: each upstream bundle must verify with its organisation's trusted key, and its
subject must be exactly the content our record says was used.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from pedigree.errors import NotFoundError, ProofError, RecordError
from pedigree.model import Annotation, DatasetVersion, VersionRef

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pedigree.certify.verify import Report
    from pedigree.store import Ledger

KIND = "upstream_certificate"
MAX_DEPTH = 8
"""How many organisations deep a chain may go (a guard against cycles and bombs)."""


def subject_fingerprint(statement: dict[str, Any]) -> str | None:
    """``ALG:VALUE`` of a statement's table subject (its first subject's digest)."""
    for subject in statement.get("subject") or []:
        for algorithm, value in (subject.get("digest") or {}).items():
            if algorithm != "sha256":
                return f"{algorithm}:{value}"
    return None


def accept(
    ledger: Ledger,
    bundle: dict[str, Any],
    trusted: Sequence[str | bytes],
    *,
    name: str | None = None,
) -> tuple[Annotation, list[VersionRef]]:
    """Verify another organisation's certificate and record it against the dataset
    version(s) holding its content; returns the annotation and the versions."""
    from pedigree.certify.revocation import statement_digest
    from pedigree.certify.verify import verify_bundle

    report = verify_bundle(bundle, trusted)
    if not report.valid or report.statement is None:
        reasons = "; ".join(c.detail for c in report.checks if not c.ok)
        raise ProofError(f"the certificate does not verify, not accepted: {reasons}")
    statement = report.statement
    fingerprint = subject_fingerprint(statement)
    if fingerprint is None:
        raise RecordError("the certificate's subject has no table fingerprint to match data by")
    versions = [
        ref
        for ref in ledger.versions_named(fingerprint)
        if name is None or f"{ref.namespace}:{ref.name}" == name or ref.name == name
    ]
    records: list[Any] = []
    if not versions:
        namespace, _, dataset = (name or statement["subject"][0]["name"]).rpartition(":")
        record = DatasetVersion(
            namespace=namespace or "default",
            name=dataset,
            version=fingerprint,
            fingerprint=fingerprint,
            row_count=(statement.get("predicate") or {}).get("dataset", {}).get("row_count"),
            description="recorded from an accepted upstream certificate",
        )
        records.append(record)
        versions = [record.ref()]
    body = {
        "statement_sha256": statement_digest(bundle),
        "issuer": {
            "signing_key_ids": list(bundle.get("signing_key_ids") or []),
            "ledger_log_id": (bundle.get("ledger") or {}).get("log_id"),
        },
        "subject": statement["subject"],
        "bundle": json.loads(json.dumps(bundle)),
    }
    annotations = [Annotation(target=ref.target(), kind=KIND, body=body) for ref in versions]
    ledger.append_many([*records, *annotations])
    return annotations[0], versions


def upstream_certificates(
    ledger: Ledger, sources: Iterable[DatasetVersion]
) -> dict[VersionRef, dict[str, Any]]:
    """The latest accepted upstream certificate of each source that has one."""
    found: dict[VersionRef, dict[str, Any]] = {}
    for source in sources:
        ref = source.ref()
        try:
            details = ledger.show(f"{ref.namespace}:{ref.name}@{ref.version}")
        except NotFoundError:
            continue
        for entry in details.annotations:
            if isinstance(entry.body, Annotation) and entry.body.kind == KIND:
                found[ref] = dict(entry.body.body)  # annotations come oldest first
    return found


def check_chain(
    bundle: dict[str, Any],
    statement: dict[str, Any],
    trusted: Sequence[str | bytes],
    report: Report,
    depth: int,
) -> None:
    """Add one check per certified source: its upstream bundle verifies with a trusted
    key (recursively) and certifies exactly the content the source record names."""
    from pedigree.certify.revocation import statement_digest
    from pedigree.certify.verify import verify_bundle

    sources = [
        s
        for s in (statement.get("predicate") or {}).get("sources") or []
        if isinstance(s, dict) and isinstance(s.get("certificate"), dict)
    ]
    if not sources:
        return
    carried: dict[str, dict[str, Any]] = {}
    for item in bundle.get("upstream") or []:
        try:
            carried[statement_digest(item)] = item
        except (KeyError, TypeError, ValueError):
            continue
    for source in sources:
        name = f"upstream {source.get('dataset')}"
        wanted = source["certificate"].get("statement_sha256")
        upstream = carried.get(wanted)
        if upstream is None:
            report.add(name, False, f"its certificate {str(wanted)[:16]}… is not in the bundle")
            continue
        if depth >= MAX_DEPTH:
            report.add(name, False, f"the chain is more than {MAX_DEPTH} certificates deep")
            continue
        inner = verify_bundle(upstream, trusted, _depth=depth + 1)
        if not inner.valid or inner.statement is None:
            reasons = "; ".join(c.detail for c in inner.checks if not c.ok)
            report.add(name, False, f"its certificate does not verify: {reasons}")
            continue
        certified = subject_fingerprint(inner.statement)
        if certified != source.get("fingerprint"):
            report.add(
                name,
                False,
                f"its certificate is for other content ({certified}) than the source used "
                f"({source.get('fingerprint')})",
            )
            continue
        signers = ", ".join(k[:16] for k in upstream.get("signing_key_ids") or [])
        report.add(name, True, f"certified by trusted key {signers}, for exactly the content used")
