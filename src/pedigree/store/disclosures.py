"""Confidential values behind commitments, stored outside the log, encrypted at rest.

A record holds ``confidential:sha256:…``; the value and its salt live in the
``disclosures`` table, sealed with AES-256-GCM under the store's secrets key (the
commitment is the associated data, so a sealed value cannot be moved to another row).
Erasing a value blanks its row; the log does not change and still verifies.

The secrets key comes from ``$PEDIGREE_SECRETS_KEY`` (base64 of 32 bytes) or the file
``secrets.key`` in the store directory (created 0600 on first use). The file may hold
several keys, one per line, newest first: values are sealed with the first and opened
with whichever key sealed them, which is how a key is rotated (``rotate``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, select, update

from pedigree.errors import NotFoundError, SigningKeyError
from pedigree.ledger import commitments
from pedigree.ledger.canonical import canonical_json
from pedigree.ledger.commitments import Disclosure
from pedigree.model import format_time
from pedigree.store import schema as t
from pedigree.store.engine import bulk_insert

KEY_ENV = "PEDIGREE_SECRETS_KEY"
KEY_FILENAME = "secrets.key"
NONCE_BYTES = 12


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


class SecretsKeys:
    """The AES-256 keys of a store: the first seals, any opens what it sealed."""

    def __init__(self, keys: list[bytes], source: str) -> None:
        if not keys:
            raise SigningKeyError(f"{source} holds no secrets key")
        for key in keys:
            if len(key) != 32:
                raise SigningKeyError(f"a secrets key in {source} is not 32 bytes (base64)")
        self.keys = {_key_id(k): k for k in keys}
        self.current = _key_id(keys[0])
        self.source = source

    @classmethod
    def load(cls, store_dir: Path, *, create: bool = True) -> SecretsKeys:
        env = os.environ.get(KEY_ENV)
        if env:
            return cls(_parse(env, f"${KEY_ENV}"), f"${KEY_ENV}")
        path = store_dir / KEY_FILENAME
        if not path.exists():
            if not create:
                raise SigningKeyError(f"no secrets key at {path} (and ${KEY_ENV} is not set)")
            write_key_file(path, [new_key()])
        mode = path.stat().st_mode
        if mode & 0o077:
            raise SigningKeyError(
                f"{path} is readable by others (mode {mode & 0o777:o}); chmod 600 it"
            )
        return cls(_parse(path.read_text(encoding="ascii"), str(path)), str(path))

    def salt_for(self, value: Any) -> bytes:
        """A salt that is a keyed hash of the value (HMAC-SHA256 under the current key)."""
        mac = hmac.new(self.keys[self.current], b"pedigree salt\n", hashlib.sha256)
        mac.update(canonical_json(value))
        return mac.digest()[: commitments.SALT_BYTES]

    def seal(self, commitment: str, disclosure: Disclosure) -> tuple[bytes, str]:
        plain = json.dumps(
            {"salt": base64.b64encode(disclosure.salt).decode(), "value": disclosure.value},
            ensure_ascii=False,
        ).encode()
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.keys[self.current]).encrypt(nonce, plain, commitment.encode())
        return nonce + sealed, self.current

    def open(self, commitment: str, data: bytes, key_id: str) -> Disclosure:
        key = self.keys.get(key_id)
        if key is None:
            raise SigningKeyError(
                f"the value behind {commitment[:36]}… was sealed with secrets key {key_id}, "
                f"which {self.source} does not hold"
            )
        try:
            plain = AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], commitment.encode())
        except InvalidTag:
            raise SigningKeyError(
                f"the sealed value behind {commitment[:36]}… does not open (altered?)"
            ) from None
        parsed = json.loads(plain)
        return Disclosure(commitment, base64.b64decode(parsed["salt"]), parsed["value"])


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=256)


def _parse(text: str, source: str) -> list[bytes]:
    try:
        return [base64.b64decode(line.strip(), validate=True) for line in text.split() if line]
    except ValueError:
        raise SigningKeyError(f"{source} is not base64 secrets keys, one per line") from None


def write_key_file(path: Path, keys: list[bytes]) -> None:
    """Write keys (newest first) through a 0600 temporary file renamed into place."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, "".join(base64.b64encode(k).decode() + "\n" for k in keys).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def put(conn: Connection, disclosures: Iterable[Disclosure], keys: SecretsKeys) -> None:
    """Store values not stored yet (a commitment already present keeps its row)."""
    wanted = {d.commitment: d for d in disclosures}
    if not wanted:
        return
    present = set(
        conn.execute(
            select(t.disclosures.c.commitment).where(t.disclosures.c.commitment.in_(wanted))
        ).scalars()
    )
    now = format_time(datetime.now(UTC))
    rows = []
    for commitment, disclosure in wanted.items():
        if commitment in present:
            continue
        sealed, key_id = keys.seal(commitment, disclosure)
        rows.append(
            {
                "commitment": commitment,
                "value": sealed,
                "key_id": key_id,
                "created_at": now,
                "erased_at": None,
            }
        )
    bulk_insert(conn, t.disclosures, rows)


def get(conn: Connection, commitment: str, keys: SecretsKeys) -> Disclosure:
    row = conn.execute(
        select(t.disclosures).where(t.disclosures.c.commitment == commitment)
    ).first()
    if row is None:
        raise NotFoundError(f"this store holds no value for {commitment}")
    if row.erased_at is not None:
        raise NotFoundError(f"the value behind {commitment} was erased at {row.erased_at}")
    return keys.open(commitment, row.value, row.key_id)


def erase(conn: Connection, commitment: str) -> None:
    done = conn.execute(
        update(t.disclosures)
        .where(t.disclosures.c.commitment == commitment, t.disclosures.c.erased_at.is_(None))
        .values(value=None, erased_at=format_time(datetime.now(UTC)))
    )
    if done.rowcount == 0:
        raise NotFoundError(f"this store holds no value for {commitment} to erase")


def reseal(conn: Connection, keys: SecretsKeys) -> int:
    """Reseal every stored value with the current key (after a new key was put first)."""
    count = 0
    rows = conn.execute(select(t.disclosures).where(t.disclosures.c.erased_at.is_(None))).all()
    for row in rows:
        if row.key_id == keys.current:
            continue
        disclosure = keys.open(row.commitment, row.value, row.key_id)
        sealed, key_id = keys.seal(row.commitment, disclosure)
        conn.execute(
            update(t.disclosures)
            .where(t.disclosures.c.commitment == row.commitment)
            .values(value=sealed, key_id=key_id)
        )
        count += 1
    return count
