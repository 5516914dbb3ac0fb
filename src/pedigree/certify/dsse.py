"""DSSE v1 envelopes: a signed payload whose signature also covers its type.

Spec: https://github.com/secure-systems-lab/dsse (``envelope.md``, ``protocol.md``). The
signature is over the pre-authentication encoding (PAE) of the payload type and payload
bytes, never over JSON, so nothing needs canonicalising and a payload cannot be
reinterpreted as another type. Signatures: Ed25519 raw (64 bytes); ECDSA P-256 with
SHA-256, DER-encoded, as in-toto and sigstore tooling write them. Signers write standard
base64; verifiers accept standard or URL-safe, padded or not (the spec requires both
alphabets).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from pedigree.certify.keys import PublicKey, Signer, verify_bytes
from pedigree.errors import ProofError

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_B64 = re.compile(r"[A-Za-z0-9+/\-_]*={0,2}")


class EnvelopeError(ProofError):
    """A DSSE envelope is malformed or does not verify; ``reason`` is a stable code
    (``malformed``, ``bad-base64``, ``untrusted-key``, ``bad-signature``,
    ``too-few-signers``, ``unsupported-payload-type``) for reports that list every reason."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class VerifiedPayload:
    """What a verified envelope vouches for, and by whom."""

    payload_type: str
    payload: bytes
    key_ids: tuple[str, ...]
    """Ids of the trusted keys whose signatures verified, in envelope order."""


def pae(payload_type: str, payload: bytes) -> bytes:
    """``DSSEv1 SP LEN(type) SP type SP LEN(body) SP body``, lengths in bytes, decimal."""
    try:
        type_bytes = payload_type.encode("utf-8")
    except UnicodeEncodeError:
        raise EnvelopeError("malformed", "payload type is not encodable as UTF-8") from None
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(payload), payload)


def sign(payload: bytes, payload_type: str, signer: Signer) -> dict[str, Any]:
    """An envelope with one signature by ``signer`` (``keyid`` = its SHA-256 key id)."""
    signature = signer.sign(pae(payload_type, payload))
    return {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": [
            {"keyid": signer.key_id, "sig": base64.b64encode(signature).decode("ascii")}
        ],
    }


def _b64decode(value: str, what: str) -> bytes:
    """Standard or URL-safe base64, padding optional (strict about everything else)."""
    if not _B64.fullmatch(value):
        raise EnvelopeError("bad-base64", f"{what} is not valid base64")
    stripped = value.rstrip("=")
    if len(stripped) % 4 == 1:
        raise EnvelopeError("bad-base64", f"{what} is not valid base64 (truncated)")
    normal = stripped.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("bad-base64", f"{what} is not valid base64") from None


def _field(obj: Mapping[str, Any], name: str, where: str) -> str:
    if name not in obj:
        raise EnvelopeError("malformed", f"malformed envelope: {where} has no {name!r}")
    value = obj[name]
    if not isinstance(value, str):
        raise EnvelopeError(
            "malformed",
            f"malformed envelope: {where} {name!r} must be a string, not {type(value).__name__}",
        )
    return value


def verify(
    envelope: Mapping[str, Any],
    trusted: Mapping[str, PublicKey],
    *,
    threshold: int = 1,
    payload_types: Collection[str] | None = None,
) -> VerifiedPayload:
    """Check ``envelope`` against ``trusted`` (key id → public key).

    Valid when signatures by at least ``threshold`` distinct trusted keys verify over the
    PAE. A ``keyid`` only selects which trusted key to try (the spec forbids trusting it
    further); without one every trusted key is tried. Signatures by keys not in
    ``trusted`` are skipped, and reported if too few others verify. Raises
    ``EnvelopeError`` naming the first structural problem or every signature problem.
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if not isinstance(envelope, Mapping):
        raise EnvelopeError(
            "malformed",
            f"malformed envelope: expected a JSON object, not {type(envelope).__name__}",
        )
    payload_type = _field(envelope, "payloadType", "the envelope")
    payload = _b64decode(_field(envelope, "payload", "the envelope"), "payload")
    signatures = envelope.get("signatures")
    if not isinstance(signatures, list) or not signatures:
        raise EnvelopeError(
            "malformed", "malformed envelope: 'signatures' must be a non-empty list"
        )
    parsed: list[tuple[str | None, bytes]] = []
    for number, entry in enumerate(signatures, start=1):
        where = f"signature {number}"
        if not isinstance(entry, Mapping):
            raise EnvelopeError("malformed", f"malformed envelope: {where} is not an object")
        keyid = entry.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            raise EnvelopeError(
                "malformed", f"malformed envelope: {where} 'keyid' must be a string"
            )
        parsed.append((keyid or None, _b64decode(_field(entry, "sig", where), f"{where} 'sig'")))

    message = pae(payload_type, payload)
    accepted: list[str] = []
    problems: list[tuple[str, str]] = []
    for number, (keyid, signature) in enumerate(parsed, start=1):
        if keyid is not None:
            candidates = [keyid] if keyid in trusted else []
        else:
            # keys not yet counted first, so a threshold counts distinct signers
            candidates = sorted(trusted, key=lambda k: k in accepted)
        if not candidates:
            shown = f" {keyid[:16]}…" if keyid and len(keyid) > 16 else f" {keyid}" if keyid else ""
            problems.append(
                (
                    "untrusted-key",
                    f"signature {number}: untrusted key{shown} (not among the {len(trusted)} trusted keys)",
                )
            )
            continue
        for candidate in candidates:
            if verify_bytes(trusted[candidate], signature, message):
                if candidate not in accepted:
                    accepted.append(candidate)
                break
        else:
            problems.append(
                (
                    "bad-signature",
                    f"signature {number}: bad signature (payload, payload type or signature altered"
                    f"{', or signed by another key' if keyid is None else ''})",
                )
            )
    if len(accepted) < threshold:
        reasons = {reason for reason, _ in problems}
        if not reasons:
            reason = "too-few-signers"
        else:
            reason = reasons.pop() if len(reasons) == 1 else "bad-signature"
        detail = "; ".join(text for _, text in problems) or "too few distinct trusted keys signed"
        need = (
            f" (need {threshold} distinct trusted keys, {len(accepted)} verified)"
            if threshold > 1
            else ""
        )
        raise EnvelopeError(reason, f"envelope does not verify{need}: {detail}")
    if payload_types is not None and payload_type not in payload_types:
        raise EnvelopeError(
            "unsupported-payload-type", f"unsupported payload type {payload_type!r}"
        )
    return VerifiedPayload(payload_type=payload_type, payload=payload, key_ids=tuple(accepted))
