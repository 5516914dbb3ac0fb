"""Verifying a certificate bundle on the server (the web UI's verify page).

``POST /api/v1/verify`` takes a multipart form: ``bundle`` (the JSON file ``pedigree
certify`` wrote) and optionally ``data`` (the certified data file). It verifies the
bundle with ``verify_bundle`` exactly as ``pedigree verify`` does offline, trusting this
ledger's public key and the public keys in the store's keyring, and, when the bundle was
issued by this ledger, also checks that the certificate has not been revoked since. The
answer is the verification report (``valid``, every check with why) plus the keys that
were trusted. A bundle that is not JSON or not a bundle is a 400 naming why; nothing a
client sends makes it a 500.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from pedigree.certify.keys import Keyring, key_id, load_public_pem
from pedigree.certify.revocation import certificate_entry
from pedigree.certify.verify import MAX_BUNDLE_BYTES, verify_bundle
from pedigree.errors import PedigreeError
from pedigree.ledger.checkpoint import public_key_pem
from pedigree.model import Annotation
from pedigree.server.auth import Permission, Principal
from pedigree.server.deps import LedgerDep, note, require
from pedigree.server.routes.common import API, STRICT
from pedigree.store import Ledger

log = logging.getLogger("pedigree.server")

router = APIRouter(prefix=API, dependencies=STRICT, tags=["certificates"])

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def trusted_keys(ledger: Ledger) -> list[dict[str, Any]]:
    """This ledger's public key, then every public key of the store's keyring."""
    keys = [
        {
            "name": "ledger",
            "kind": "ledger",
            "key_id": ledger.key_id,
            "pem": public_key_pem(ledger.public_key),
        }
    ]
    try:
        keyring = Keyring.default(ledger.location.path)
        names = keyring.names()
    except PedigreeError:
        names = []
    for name in names:
        try:
            pem = keyring.public_pem(name)
            ident = key_id(load_public_pem(pem))
        except PedigreeError as exc:  # a corrupt key file is skipped, and said so in the log
            log.warning("keyring key %s not trusted: %s", name, exc)
            continue
        if all(k["key_id"] != ident for k in keys):
            keys.append({"name": name, "kind": "keyring", "key_id": ident, "pem": pem})
    return keys


def _bundle(raw: bytes, filename: str | None) -> dict[str, Any]:
    what = f"the bundle {filename!r}" if filename else "the bundle"
    if not raw.strip():
        raise HTTPException(400, f"{what} is empty")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise HTTPException(400, f"{what} is not a bundle: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise HTTPException(400, f"{what} is not a bundle: not JSON ({exc})") from None
    if not isinstance(data, dict) or "dsse_envelope" not in data:
        raise HTTPException(
            400, f"{what} is not a Pedigree certificate bundle (it has no dsse_envelope)"
        )
    if not isinstance(data["dsse_envelope"], dict):
        raise HTTPException(400, f"{what} is malformed: dsse_envelope is not an object")
    return data


def _issued_here(bundle: dict[str, Any], ledger: Ledger) -> bool:
    checkpoint = bundle.get("checkpoint")
    inner = checkpoint.get("checkpoint") if isinstance(checkpoint, dict) else None
    return isinstance(inner, dict) and inner.get("log_id") == ledger.log_id


def _statement_digest(bundle: dict[str, Any]) -> str | None:
    from pedigree.certify.revocation import statement_digest

    try:
        return statement_digest(bundle)
    except Exception:  # the payload is not base64: the signature check says so
        return None


def _recorded_certificate(ledger: Ledger, digest: str | None) -> dict[str, Any] | None:
    """Where this ledger recorded the certificate, when it did."""
    if digest is None:
        return None
    entry = certificate_entry(ledger, digest)
    if entry is None:
        return None
    assert isinstance(entry.body, Annotation)
    return {
        "seq": entry.seq,
        "time": entry.time,
        "target": entry.body.target.model_dump(mode="json"),
    }


@router.post(
    "/verify",
    summary="Verify a certificate bundle (and optionally its data file)",
    description="Multipart form: `bundle` (a bundle from `pedigree certify`) and optionally "
    "`data` (the certified data file). Trusts this ledger's key and the store keyring's "
    "public keys; checks revocation when this ledger issued the certificate. Answers the "
    "verification report (`valid`, `checks`, `subject`) and the keys trusted. Any role.",
)
async def verify(
    request: Request,
    ledger: LedgerDep,
    principal: Annotated[Principal, require(Permission.read_summary)],
    bundle: Annotated[UploadFile, File(description="The certificate bundle (JSON).")],
    data: Annotated[
        UploadFile | None, File(description="The certified data file (optional).")
    ] = None,
) -> dict[str, Any]:
    raw = await bundle.read(MAX_BUNDLE_BYTES + 1)
    if len(raw) > MAX_BUNDLE_BYTES:
        raise HTTPException(413, f"the bundle is larger than {MAX_BUNDLE_BYTES:,} bytes")
    parsed = _bundle(raw, bundle.filename)
    keys = trusted_keys(ledger)
    issued_here = _issued_here(parsed, ledger)
    digest = _statement_digest(parsed)
    note(request, f"certificate {digest[:16]}" if digest else "certificate")
    with tempfile.TemporaryDirectory(prefix="pedigree-verify-") as tmp:
        paths = []
        if data is not None and data.filename:
            name = _SAFE_NAME.sub("_", Path(data.filename).name).strip("._") or "data"
            path = Path(tmp) / name
            with path.open("wb") as out:
                while chunk := await data.read(1 << 20):
                    out.write(chunk)
            paths.append(path)
        try:
            report = await run_in_threadpool(
                verify_bundle,
                parsed,
                [k["pem"] for k in keys],
                paths,
                ledger=ledger if issued_here else None,
            )
        except PedigreeError as exc:
            raise HTTPException(400, f"the bundle cannot be verified: {exc}") from None
        except Exception as exc:  # a bundle of the right shape but wrong types inside
            log.info("malformed bundle: %r", exc)
            raise HTTPException(
                400, f"the bundle is malformed: {type(exc).__name__}: {str(exc)[:200]}"
            ) from None
    answer = report.to_json()
    if not issued_here:
        answer["checks"].append(
            {
                "check": "revocation",
                "ok": True,
                "detail": "not checked: the certificate was issued by another ledger; "
                "ask its issuer whether it was revoked",
                "skipped": True,
            }
        )
    return {
        **answer,
        "statement_sha256": digest,
        "issued_here": issued_here,
        "recorded": await run_in_threadpool(_recorded_certificate, ledger, digest)
        if issued_here
        else None,
        "data_file": paths[0].name if paths else None,
        "trusted_keys": [
            {"name": k["name"], "kind": k["kind"], "key_id": k["key_id"]} for k in keys
        ],
    }
