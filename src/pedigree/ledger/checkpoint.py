"""Signed tree heads ("checkpoints"): the ledger's signed statement of its size and root.

The signature is Ed25519 over the RFC 8785 form of the checkpoint, so anyone holding the
ledger's public key can check a checkpoint without the ledger.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from pydantic import BaseModel, ConfigDict, Field

from pedigree.errors import ProofError, SigningKeyError
from pedigree.ledger.canonical import canonical_json
from pedigree.model.types import Timestamp, format_time

CHECKPOINT_SCHEMA = "pedigree.checkpoint/1"


def public_key_der(public_key: PublicKeyTypes) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_key_pem(public_key: PublicKeyTypes) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def key_id(public_key: PublicKeyTypes) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, hex (as transparency logs name their keys)."""
    return hashlib.sha256(public_key_der(public_key)).hexdigest()


def load_public_key(key: Ed25519PublicKey | bytes | str) -> Ed25519PublicKey:
    """Accept a key object or PEM text/bytes."""
    if isinstance(key, Ed25519PublicKey):
        return key
    data = key.encode() if isinstance(key, str) else key
    try:
        loaded = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise SigningKeyError(f"not a PEM public key: {exc}") from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise SigningKeyError("the ledger key must be an Ed25519 public key")
    return loaded


class Checkpoint(BaseModel):
    """A tree head: ``size`` records whose Merkle root is ``root``, as of ``time``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    log_id: str
    size: int = Field(ge=0)
    root: str = Field(pattern=r"^[0-9a-f]{64}$")
    time: Timestamp

    def signed_bytes(self) -> bytes:
        return canonical_json(
            {
                "log_id": self.log_id,
                "root": self.root,
                "schema": CHECKPOINT_SCHEMA,
                "size": self.size,
                "time": format_time(self.time),
            }
        )


class Signature(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: Literal["ed25519"] = "ed25519"
    key_id: str
    value: str
    """Base64 of the raw signature."""


class SignedCheckpoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    checkpoint: Checkpoint
    signature: Signature

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return bytes.fromhex(self.checkpoint.root)


def sign_checkpoint(
    private_key: Ed25519PrivateKey, *, log_id: str, size: int, root: bytes, time: datetime
) -> SignedCheckpoint:
    cp = Checkpoint(log_id=log_id, size=size, root=root.hex(), time=time)
    sig = private_key.sign(cp.signed_bytes())
    return SignedCheckpoint(
        checkpoint=cp,
        signature=Signature(
            key_id=key_id(private_key.public_key()), value=base64.b64encode(sig).decode()
        ),
    )


def verify_checkpoint(signed: SignedCheckpoint, public_key: Ed25519PublicKey | bytes | str) -> None:
    """Raise ``ProofError`` unless ``public_key`` signed this checkpoint."""
    key = load_public_key(public_key)
    if signed.signature.key_id != key_id(key):
        raise ProofError(
            f"checkpoint at size {signed.size} is signed by key {signed.signature.key_id[:16]}…, "
            f"not by the trusted key {key_id(key)[:16]}…"
        )
    try:
        key.verify(base64.b64decode(signed.signature.value), signed.checkpoint.signed_bytes())
    except (InvalidSignature, ValueError):
        raise ProofError(f"checkpoint at size {signed.size}: signature does not verify") from None


def checkpoint_json_schema() -> dict[str, object]:
    """JSON Schema of a signed checkpoint as Pedigree writes it."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": CHECKPOINT_SCHEMA,
        "description": (
            "A signed tree head. The Ed25519 signature covers the RFC 8785 form of "
            '{"log_id", "root", "schema": "pedigree.checkpoint/1", "size", "time"}.'
        ),
        **SignedCheckpoint.model_json_schema(),
    }
