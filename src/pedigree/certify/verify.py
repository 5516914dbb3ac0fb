"""Offline verification of a certificate bundle: no store, no network, only trusted keys.

Every check runs and says why it failed, so a reader learns everything that is wrong at
once: the DSSE signature by a trusted key; the ledger checkpoint's signature by a trusted
ledger key; each closure record's inclusion proof under that checkpoint; the closure
digest in the statement; the checkpoint named in the statement; and, given data files,
that their content is the certified subject (naming the columns that differ).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pedigree.certify import dsse
from pedigree.certify.certificate import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    closure_digest,
)
from pedigree.certify.chain import check_chain
from pedigree.certify.keys import key_id, load_public_pem, trusted_keys
from pedigree.errors import PedigreeError
from pedigree.ledger import commitments
from pedigree.ledger.checkpoint import SignedCheckpoint, verify_checkpoint
from pedigree.ledger.commitments import Disclosure
from pedigree.ledger.proofs import InclusionProof, check_inclusion, record_bytes
from pedigree.store import Ledger

MAX_BUNDLE_BYTES = 64 << 20


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)
    statement: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append(Check(name, ok, detail))

    def to_json(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "checks": [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
            "subject": None if self.statement is None else self.statement.get("subject"),
        }


def load_bundle(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a bundle file; a clear error for a missing, oversized or malformed one."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BUNDLE_BYTES:
            raise PedigreeError(
                f"{path} is {size:,} bytes, more than a bundle may be ({MAX_BUNDLE_BYTES:,})"
            )
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PedigreeError(f"no bundle at {path}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PedigreeError(f"{path} is not a bundle (not JSON: {exc})") from None
    if not isinstance(data, dict) or "dsse_envelope" not in data:
        raise PedigreeError(f"{path} is not a Pedigree bundle (no dsse_envelope)")
    return data


def verify_bundle(
    bundle: dict[str, Any],
    trusted: Sequence[str | bytes],
    data: Iterable[str | os.PathLike[str]] = (),
    *,
    ledger: Ledger | str | None = None,
    disclosures: Iterable[Disclosure] = (),
    _depth: int = 0,
) -> Report:
    """Check everything a bundle claims against the ``trusted`` public keys (PEM); with the
    issuing ``ledger``, also that the certificate has not been revoked since; with
    ``disclosures``, that each revealed value is what the certificate committed to; and,
    for sources certified by another organisation, the chain of their certificates."""
    report = Report()
    keys = trusted_keys(list(trusted))
    statement = _statement(bundle, keys, report)
    checkpoint = _checkpoint(bundle, keys, report)
    if ledger is not None:
        if checkpoint is None:
            report.add("revocation", False, "revocation not checked: no trusted checkpoint")
        else:
            from pedigree.certify.revocation import revocation_check

            ok, why = revocation_check(
                bundle, ledger, (bundle.get("ledger") or {}).get("public_key")
            )
            report.add("revocation", ok, why)
    records = _inclusion(bundle, checkpoint, report)
    if statement is not None:
        predicate = statement.get("predicate") or {}
        claimed = (predicate.get("closure") or {}).get("digest")
        actual = closure_digest(records) if records is not None else None
        report.add(
            "closure",
            records is not None and claimed == actual,
            "the closure records hash to the digest in the statement"
            if claimed == actual
            else f"the closure records do not match the statement (records {actual}, statement {claimed}): "
            "a record was altered, removed, added or reordered",
        )
        if checkpoint is not None:
            named = predicate.get("checkpoint") or {}
            same = (
                named.get("size") == checkpoint.size
                and named.get("root") == checkpoint.checkpoint.root
            )
            report.add(
                "checkpoint binding",
                same,
                "the statement names the bundle's checkpoint"
                if same
                else "the statement was issued against another checkpoint than the bundle carries",
            )
        for path in data:
            _data(Path(path), statement, report)
        check_chain(bundle, statement, trusted, report, _depth)
    disclosures = list(disclosures)
    if disclosures:
        held = commitments.commitments_in(statement) if statement else set()
        for record in records or []:
            held |= commitments.commitments_in(json.loads(record))
        for disclosure in disclosures:
            _disclosed(disclosure, held, report)
    return report


def _disclosed(disclosure: Disclosure, held: set[str], report: Report) -> None:
    """A revealed value: it must hash to its commitment, and the commitment must be one
    the signed statement or its closure records hold (``held``)."""
    name = f"disclosure {disclosure.commitment[len(commitments.PREFIX) :][:12]}…"
    try:
        commitments.check(disclosure)
    except PedigreeError as exc:
        report.add(name, False, str(exc))
        return
    if disclosure.commitment not in held:
        report.add(name, False, "the certificate holds no such commitment")
        return
    report.add(name, True, f"the committed value is {json.dumps(disclosure.value)[:200]}")


def _statement(
    bundle: dict[str, Any], keys: dict[str, Any], report: Report
) -> dict[str, Any] | None:
    envelope = bundle.get("dsse_envelope")
    try:
        verified = dsse.verify(envelope, keys, payload_types=[PAYLOAD_TYPE])  # type: ignore[arg-type]
    except dsse.EnvelopeError as exc:
        report.add("signature", False, f"certificate signature: {exc}")
        return None
    try:
        statement = json.loads(verified.payload)
    except ValueError:
        report.add("signature", False, "the signed payload is not JSON")
        return None
    if statement.get("_type") != STATEMENT_TYPE or statement.get("predicateType") != PREDICATE_TYPE:
        report.add("signature", False, "the signed payload is not a Pedigree provenance statement")
        return None
    report.add(
        "signature", True, f"signed by trusted key {', '.join(k[:16] for k in verified.key_ids)}"
    )
    report.statement = statement
    return statement


def _checkpoint(
    bundle: dict[str, Any], keys: dict[str, Any], report: Report
) -> SignedCheckpoint | None:
    try:
        checkpoint = SignedCheckpoint.model_validate(bundle.get("checkpoint"))
        ledger_key = (bundle.get("ledger") or {}).get("public_key")
        if not ledger_key:
            raise PedigreeError("the bundle carries no ledger public key")
        public = load_public_pem(ledger_key)
        if key_id(public) not in keys:
            report.add(
                "checkpoint",
                False,
                "the ledger's key is not trusted (pass its ledger.pub to --trust)",
            )
            return None
        verify_checkpoint(checkpoint, public)
    except PedigreeError as exc:
        report.add("checkpoint", False, f"checkpoint: {exc}")
        return None
    except ValueError as exc:
        report.add("checkpoint", False, f"checkpoint is malformed: {str(exc).splitlines()[0]}")
        return None
    report.add(
        "checkpoint",
        True,
        f"ledger checkpoint of {checkpoint.size:,} records signed by a trusted ledger key",
    )
    return checkpoint


def _inclusion(
    bundle: dict[str, Any], checkpoint: SignedCheckpoint | None, report: Report
) -> list[bytes] | None:
    closure = bundle.get("closure")
    if not isinstance(closure, list) or not closure:
        report.add("inclusion", False, "the bundle has no closure records")
        return None
    records, failures = [], []
    for position, item in enumerate(closure, start=1):
        try:
            record = record_bytes(item["record"])
            records.append(record)
            if checkpoint is not None:  # its signature is verified: check each path to its root
                proof = InclusionProof.model_validate(item["inclusion_proof"])
                check_inclusion(record, proof, checkpoint)
        except (PedigreeError, KeyError, TypeError, ValueError) as exc:
            failures.append(
                f"record {item.get('seq', position) if isinstance(item, dict) else position}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            )
    if checkpoint is None:
        report.add("inclusion", False, "inclusion proofs not checked: no trusted checkpoint")
    else:
        report.add(
            "inclusion",
            not failures,
            f"all {len(closure)} closure records are in the signed log"
            if not failures
            else "proof does not verify: " + "; ".join(failures[:5]),
        )
    return records if len(records) == len(closure) else None


def _data(path: Path, statement: dict[str, Any], report: Report) -> None:
    from pedigree.fingerprint import fingerprint_path

    name = f"data {path.name}"
    try:
        fp = fingerprint_path(path)
    except PedigreeError as exc:
        report.add(name, False, str(exc))
        return
    digests = [s.get("digest", {}) for s in statement.get("subject", [])]
    if fp.table is not None:
        algorithm, _, value = fp.table.fingerprint.partition(":")
        if any(d.get(algorithm) == value for d in digests):
            report.add(name, True, "its content is the certified dataset version")
            return
    if any(d.get("sha256") == fp.sha256 for d in digests):
        report.add(name, True, "its bytes are a certified file")
        return
    expected = ((statement.get("predicate") or {}).get("dataset") or {}).get("column_digests") or {}
    changed = []
    if fp.table is not None and expected:
        got = {c.name: c.digest for c in fp.table.columns}
        changed = sorted(c for c in set(expected) | set(got) if expected.get(c) != got.get(c))
    detail = "data differs from the certified version"
    if changed:
        detail += f" in columns: {', '.join(changed)}"
    report.add(name, False, detail)


def verify(
    bundle: dict[str, Any] | str | os.PathLike[str],
    trust: Sequence[str | bytes | os.PathLike[str]],
    data: Iterable[str | os.PathLike[str]] = (),
    *,
    ledger: Ledger | str | os.PathLike[str] | None = None,
    disclosures: Iterable[Disclosure | dict[str, Any] | str | os.PathLike[str]] = (),
) -> Report:
    """``pedigree.verify``: a bundle (file or parsed) against trusted keys (PEM text or
    ``.pub`` files), optionally with the data it certifies and revealed values
    (``pedigree reveal`` output, parsed or as files); ``ledger`` (a ``Ledger``, a store
    directory or a server URL) adds the revocation check; ``report.valid`` says it all."""
    loaded = bundle if isinstance(bundle, dict) else load_bundle(bundle)
    pems = read_trusted(trust)
    revealed = [load_disclosure(d) for d in disclosures]
    if isinstance(ledger, str) and ledger.startswith(("http://", "https://")):
        return verify_bundle(loaded, pems, data, ledger=ledger, disclosures=revealed)
    if ledger is None or isinstance(ledger, Ledger):
        return verify_bundle(loaded, pems, data, ledger=ledger, disclosures=revealed)
    with Ledger.open(ledger) as opened:  # a store directory
        return verify_bundle(loaded, pems, data, ledger=opened, disclosures=revealed)


def read_trusted(trust: Iterable[str | bytes | os.PathLike[str]]) -> list[str | bytes]:
    """Trusted keys as PEM: given as PEM text, or as ``.pub`` files to read."""
    pems: list[str | bytes] = []
    for key in trust:
        if isinstance(key, bytes) or (isinstance(key, str) and "BEGIN" in key):
            pems.append(key)
        else:
            try:
                pems.append(Path(key).read_text(encoding="utf-8"))
            except OSError as exc:
                raise PedigreeError(f"cannot read the trusted key {key}: {exc.strerror}") from None
    return pems


def load_disclosure(item: Disclosure | dict[str, Any] | str | os.PathLike[str]) -> Disclosure:
    """A disclosure as given: parsed, or a file ``pedigree reveal`` wrote."""
    if isinstance(item, Disclosure):
        return item
    if isinstance(item, dict):
        return Disclosure.from_json(item)
    try:
        return Disclosure.from_json(json.loads(Path(item).read_text(encoding="utf-8")))
    except OSError as exc:
        raise PedigreeError(f"cannot read the disclosure {item}: {exc.strerror}") from None
    except ValueError as exc:
        raise PedigreeError(f"{item} is not a disclosure (not JSON: {exc})") from None
