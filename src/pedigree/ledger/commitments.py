"""Salted commitments: a confidential value appears in records only as a digest.

``commit(value)`` draws a random 16-byte salt and returns a ``Disclosure`` whose
``commitment`` is ``confidential:sha256:<hex>``, the SHA-256 of the canonical JSON of
``{"salt": <base64url salt>, "value": <value>}``. The record holds only the commitment;
whoever holds the value and the salt can later show that they are what was committed
(``check``), while without them the digest says nothing (the salt defeats guessing a
small set of likely values). Erasing the value leaves every record, and so the log,
verifiable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from pedigree.errors import ProofError, RecordError
from pedigree.ledger.canonical import canonical_json

PREFIX = "confidential:sha256:"
PATTERN = re.compile(r"^confidential:sha256:[0-9a-f]{64}$")
SALT_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise RecordError("a disclosure's salt is not base64url") from None


def digest(value: Any, salt: bytes) -> str:
    """The commitment string for ``value`` under ``salt``."""
    payload = canonical_json({"salt": _b64(salt), "value": value})
    return PREFIX + hashlib.sha256(payload).hexdigest()


def is_commitment(value: Any) -> bool:
    return isinstance(value, str) and PATTERN.match(value) is not None


@dataclass(frozen=True, slots=True)
class Disclosure:
    """A committed value and its salt: what proves a commitment's content."""

    commitment: str
    salt: bytes
    value: Any

    def to_json(self) -> dict[str, Any]:
        return {"commitment": self.commitment, "salt": _b64(self.salt), "value": self.value}

    @classmethod
    def from_json(cls, data: Any) -> Disclosure:
        if not isinstance(data, dict) or not {"commitment", "salt", "value"} <= data.keys():
            raise RecordError("a disclosure is an object with commitment, salt and value")
        if not is_commitment(data["commitment"]):
            raise RecordError(f"{data['commitment']!r} is not a commitment")
        return cls(data["commitment"], _unb64(str(data["salt"])), data["value"])


def commit(value: Any, *, salt: bytes | None = None) -> Disclosure:
    """Commit to ``value`` (any JSON value) with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    return Disclosure(digest(value, salt), salt, value)


def check(disclosure: Disclosure) -> None:
    """Raise ``ProofError`` unless the value and salt hash to the commitment."""
    if not hmac.compare_digest(digest(disclosure.value, disclosure.salt), disclosure.commitment):
        raise ProofError(f"the value and salt given do not match {disclosure.commitment[:36]}…")


def commitments_in(value: Any) -> set[str]:
    """Every commitment string anywhere inside a JSON value."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if is_commitment(item):
                found.add(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


__all__ = ["PREFIX", "Disclosure", "check", "commit", "commitments_in", "digest", "is_commitment"]
