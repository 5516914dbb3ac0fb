"""The ledger's Ed25519 signing key on disk: created 0600, refused if others can read it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pedigree.errors import SigningKeyError
from pedigree.ledger.checkpoint import load_public_key, public_key_pem


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (no window where it is world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # in case the umask narrowed it


def create_signing_key(key_path: Path, public_path: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_new(key_path, pem, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{key_path} already exists; not overwriting a signing key") from None
    if public_path.exists():
        public_path.unlink()
    _write_new(public_path, public_key_pem(key.public_key()).encode(), 0o644)
    return key


def load_signing_key(key_path: Path) -> Ed25519PrivateKey:
    try:
        mode = key_path.stat().st_mode
        data = key_path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(
            f"no ledger signing key at {key_path} (run `pedigree init`, or copy the ledger's key there)"
        ) from None
    except OSError as exc:
        raise SigningKeyError(
            f"cannot read the ledger signing key {key_path}: {exc.strerror}"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyError(
            f"{key_path} is accessible by other users (mode {stat.S_IMODE(mode):o}); "
            f"run `chmod 600 {key_path}`"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{key_path} is not a readable PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{key_path} is not an Ed25519 key")
    return key


def load_public_key_file(path: Path) -> Ed25519PublicKey:
    try:
        return load_public_key(path.read_bytes())
    except FileNotFoundError:
        raise SigningKeyError(f"no public key file at {path}") from None
