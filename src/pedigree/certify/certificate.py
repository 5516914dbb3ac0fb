"""Certificates: a signed in-toto Statement about one dataset version, and its bundle.

The Statement's subject is the dataset version's content (its canonical table fingerprint
and its files' SHA-256), so the record cannot be re-used for other data. Its predicate
(``PREDICATE_TYPE``) summarises the provenance closure — generation, sources,
transformations and their intents, evaluation, intended use, lifecycle — and binds it by
digest to the closure records, each shipped in the bundle with its inclusion proof under
one signed ledger checkpoint. Anyone holding the bundle and the trusted keys can check
all of it offline (``pedigree.certify.verify``).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from pedigree.certify import dsse
from pedigree.certify.chain import upstream_certificates
from pedigree.certify.keys import Signer
from pedigree.errors import RecordError
from pedigree.ledger import merkle
from pedigree.ledger.canonical import canonical_json
from pedigree.ledger.proofs import record_bytes
from pedigree.model import Annotation, DatasetVersion, Run
from pedigree.store import Ledger

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://pedigree.dev/provenance/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUNDLE_MEDIA_TYPE = "application/vnd.pedigree.bundle+json;version=1"


def closure_digest(records: list[bytes]) -> str:
    """``sha256:`` over the RFC 9162 leaf hashes of the closure records, in log order."""
    return "sha256:" + hashlib.sha256(b"".join(merkle.leaf_hash(r) for r in records)).hexdigest()


def certify(ledger: Ledger, ref: str, signer: Signer) -> dict[str, Any]:
    """Issue a certificate for a dataset version (``ref``: a dataset, its latest version,
    or ``NAME@VERSION``); append it to the ledger; return the bundle."""
    selection = ledger.resolve(ref)
    if selection.type not in ("dataset", "dataset_version"):
        raise RecordError(
            f"{ref} is a {selection.type.replace('_', ' ')}; certify a dataset version"
        )
    version = ledger.entry(max(selection.node_ids)).body
    assert isinstance(version, DatasetVersion)
    if not version.fingerprint and not version.files:
        raise RecordError(f"{version.ref()} has no content fingerprint or file digest to certify")
    if version.facets.get("confidential") is True:
        raise RecordError(
            f"{version.ref()} is confidential: its fingerprint is only a commitment, so no "
            "certificate can name its content"
        )
    exact = f"{version.namespace}:{version.name}@{version.version}"
    graph = ledger.trace(exact, direction="up")
    seqs: set[int] = set()
    runs: list[Run] = []
    sources: list[DatasetVersion] = []
    feeds: dict[int, set[int]] = {}
    for edge in graph.edges:
        feeds.setdefault(edge.dst, set()).add(edge.src)
    for node in graph.nodes.values():
        current = ledger.show(node.ref).current
        if current is None:
            continue
        seqs.add(current.seq)
        if isinstance(current.body, Run):
            runs.append(current.body)
        elif (
            isinstance(current.body, DatasetVersion)
            and node.id != max(selection.node_ids)
            and not any(feeds.get(step) for step in feeds.get(node.id, ()))
        ):  # a source: nothing in the closure derived it from other data
            sources.append(current.body)
    latest: dict[str, Any] = {}
    for entry in ledger.show(f"{version.namespace}:{version.name}").annotations:
        about = entry.body.target
        this = about.type == "dataset" or (
            about.type == "version" and about.version == version.version
        )
        kind = entry.body.kind
        newer = kind not in latest or entry.seq > latest[kind].seq
        if this and kind in ("evaluation", "intended_use", "lifecycle") and newer:
            latest[kind] = entry
    seqs.update(entry.seq for entry in latest.values())
    checkpoint = ledger.checkpoint()
    evidence = [ledger.prove(seq, tree_size=checkpoint.size) for seq in sorted(seqs)]
    records = [record_bytes(e.record) for e in evidence]
    generating = [r for r in runs if any(o.ref() == version.ref() for o in r.outputs)]
    upstream = upstream_certificates(ledger, sources)
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": _subjects(version),
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "dataset": {
                "namespace": version.namespace,
                "name": version.name,
                "version": version.version,
                "row_count": version.row_count,
                "column_digests": version.facets.get("column_digests"),
            },
            "generation": [_run_summary(r) for r in generating],
            "sources": [_source(s, upstream.get(s.ref())) for s in sources],
            "transformations": [_run_summary(r) for r in runs],
            "evaluation": _annotation_body(
                latest.get("evaluation"),
                ("summary", "passed", "headline", "thresholds", "threshold_source"),
            ),
            "intended_use": _annotation_body(latest.get("intended_use")),
            "lifecycle": _annotation_body(latest.get("lifecycle")),
            "closure": {
                "records": [e.proof.seq for e in evidence],
                "digest": closure_digest(records),
            },
            "checkpoint": {
                "log_id": checkpoint.checkpoint.log_id,
                "size": checkpoint.size,
                "root": checkpoint.checkpoint.root,
                "key_id": ledger.key_id,
            },
        },
    }
    payload = canonical_json(statement)
    envelope = dsse.sign(payload, PAYLOAD_TYPE, signer)
    ledger.append(
        Annotation(
            target=version.ref().target(),
            kind="certificate",
            body={
                "statement_sha256": hashlib.sha256(payload).hexdigest(),
                "predicate_type": PREDICATE_TYPE,
                "signing_key_id": signer.key_id,
                "closure_digest": statement["predicate"]["closure"]["digest"],
                "checkpoint_size": checkpoint.size,
            },
        )
    )
    return {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "dsse_envelope": envelope,
        "signing_key_ids": [signer.key_id],
        "ledger": {
            "log_id": checkpoint.checkpoint.log_id,
            "key_id": ledger.key_id,
            "public_key": ledger.location.public_key_path.read_text()
            if ledger.location.public_key_path.exists()
            else None,
        },
        "checkpoint": checkpoint.model_dump(mode="json"),
        "closure": [
            {
                "seq": e.proof.seq,
                "record": e.record,
                "inclusion_proof": e.proof.model_dump(mode="json"),
            }
            for e in evidence
        ],
        "upstream": [certificate["bundle"] for certificate in upstream.values()],
    }


def _source(version: DatasetVersion, certificate: dict[str, Any] | None) -> dict[str, Any]:
    """A source as the predicate names it; a confidential one by its commitments only
    (they are what its record holds), a certified one with its certificate's digest."""
    source: dict[str, Any] = {
        "dataset": f"{version.namespace}:{version.name}",
        "version": version.version,
        "fingerprint": version.fingerprint,
        "confidential": version.facets.get("confidential") is True,
    }
    if certificate is not None:
        source["certificate"] = {
            "statement_sha256": certificate["statement_sha256"],
            "issuer": certificate["issuer"],
        }
    return source


def _subjects(version: DatasetVersion) -> list[dict[str, Any]]:
    subjects = []
    if version.fingerprint:
        algorithm, _, value = version.fingerprint.partition(":")
        subjects.append(
            {"name": f"{version.namespace}:{version.name}", "digest": {algorithm: value}}
        )
    subjects += [{"name": f.path, "digest": {"sha256": f.sha256}} for f in version.files]
    return subjects


def _run_summary(run: Run) -> dict[str, Any]:
    return {
        "run_id": str(run.run_id),
        "job": f"{run.job.namespace}:{run.job.name}",
        "kind": run.kind,
        "status": run.status,
        "intent": run.intent.model_dump(mode="json", exclude_defaults=True) if run.intent else None,
        "parameters": run.parameters,
        "seeds": run.seeds,
        "code": run.code.model_dump(mode="json", exclude_none=True) if run.code else None,
        "environment_digest": run.environment.packages_digest if run.environment else None,
    }


def _annotation_body(entry: Any, keys: tuple[str, ...] | None = None) -> dict[str, Any] | None:
    """A recorded annotation's body (or the named parts of it), or an explicit null."""
    if entry is None:
        return None
    body = dict(entry.body.body)
    return {k: body[k] for k in keys if k in body} if keys else body


def payload_of(bundle: dict[str, Any]) -> bytes:
    """The (unverified) statement bytes of a bundle, for display."""
    return base64.b64decode(bundle["dsse_envelope"]["payload"])
