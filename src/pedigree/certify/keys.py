"""Named signing keys for certificates, kept in a keyring directory.

Each key is two files: ``NAME.key`` (PKCS#8 PEM, mode 0600, optionally encrypted with
a passphrase) and ``NAME.pub`` (SubjectPublicKeyInfo PEM, 0644). The default keyring is
``<store dir>/keys/``, apart from the ledger's own checkpoint key. Key ids are the
lowercase hex SHA-256 of the DER SubjectPublicKeyInfo, as for the ledger key, so one id
names a key wherever it appears (envelopes, bundles, trust lists).
"""

from __future__ import annotations

import os
import re
import stat
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from pedigree.errors import SigningKeyError
from pedigree.ledger.checkpoint import key_id as _ledger_key_id

Algorithm = Literal["ed25519", "ecdsa-p256"]
ALGORITHMS: tuple[str, ...] = get_args(Algorithm)
PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey

KEY_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"
KEYRING_DIRNAME = "keys"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


def key_id(public_key: PublicKey) -> str:
    """Hex SHA-256 of the DER SubjectPublicKeyInfo: the ledger's own key-id rule.

    The ledger's function is annotated for Ed25519 only, but hashes any key's SPKI.
    """
    return _ledger_key_id(public_key)


def algorithm_of(key: PublicKey | PrivateKey) -> Algorithm:
    """Name the algorithm of a supported key; refuse anything else (RSA, other curves)."""
    if isinstance(key, Ed25519PublicKey | Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) and isinstance(
        key.curve, ec.SECP256R1
    ):
        return "ecdsa-p256"
    raise SigningKeyError(
        f"unsupported key type {type(key).__name__}: use ed25519 or ecdsa-p256 (NIST P-256)"
    )


def public_key_pem(public_key: PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_pem(data: str | bytes) -> PublicKey:
    """A PEM public key of a supported algorithm (the ledger's loader is Ed25519-only)."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        key = serialization.load_pem_public_key(raw)
    except ValueError:
        raise SigningKeyError("not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise SigningKeyError(f"unsupported public key type {type(key).__name__}")
    algorithm_of(key)
    return key


def trusted_keys(keys: Sequence[str | bytes | PublicKey]) -> dict[str, PublicKey]:
    """Map each key's id to the key, for ``dsse.verify``: ids are computed, never taken on trust."""
    loaded = [
        k if isinstance(k, Ed25519PublicKey | ec.EllipticCurvePublicKey) else load_public_pem(k)
        for k in keys
    ]
    return {key_id(k): k for k in loaded}


def sign_bytes(private_key: PrivateKey, data: bytes) -> bytes:
    """Ed25519: the raw 64-byte signature. ECDSA P-256: SHA-256, DER-encoded (r, s),
    the encoding in-toto and sigstore tooling produce and expect."""
    if isinstance(private_key, Ed25519PrivateKey):
        return private_key.sign(data)
    return private_key.sign(data, ec.ECDSA(hashes.SHA256()))


def verify_bytes(public_key: PublicKey, signature: bytes, data: bytes) -> bool:
    """True when ``signature`` is ``public_key``'s signature over ``data`` (see ``sign_bytes``)."""
    try:
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Signer:
    """A loaded private key with its id: what ``dsse.sign`` signs with."""

    private_key: PrivateKey = field(repr=False)
    name: str | None = None

    @property
    def public_key(self) -> PublicKey:
        return self.private_key.public_key()

    @property
    def algorithm(self) -> Algorithm:
        return algorithm_of(self.private_key)

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def sign(self, data: bytes) -> bytes:
        return sign_bytes(self.private_key, data)


@dataclass(frozen=True)
class KeyInfo:
    """What the keyring knows about a key without its passphrase."""

    name: str
    algorithm: Algorithm
    key_id: str
    created: datetime
    """When the private key file was written (its modification time)."""
    encrypted: bool
    private_path: Path
    public_path: Path

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "algorithm": self.algorithm,
            "key_id": self.key_id,
            "created": self.created.isoformat().replace("+00:00", "Z"),
            "encrypted": self.encrypted,
            "private_key": str(self.private_path),
            "public_key": str(self.public_path),
        }


def check_name(name: str) -> str:
    """Names become file names: a closed alphabet keeps them from escaping the keyring."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise SigningKeyError(
            f"invalid key name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-'"
        )
    return name


def _write_exclusive(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` atomically, born with ``mode``, never replacing a file.

    The bytes go to a temporary file created with ``mode`` (so it is never readable by
    others, not even briefly), then a hard link publishes it under its final name, which
    fails if that name exists: readers see the whole file or none.
    """
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Keyring:
    """A directory of named signing keys."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser().absolute()

    @classmethod
    def default(cls, store: str | Path | None = None) -> Keyring:
        """``<store dir>/keys``, the store found as every command finds it."""
        from pedigree.store.config import locate

        return cls(locate(store).path / KEYRING_DIRNAME)

    def __repr__(self) -> str:
        return f"Keyring({str(self.path)!r})"

    def private_path(self, name: str) -> Path:
        return self.path / f"{check_name(name)}{KEY_SUFFIX}"

    def public_path(self, name: str) -> Path:
        return self.path / f"{check_name(name)}{PUBLIC_SUFFIX}"

    def generate(
        self, name: str, algorithm: str = "ed25519", passphrase: bytes | None = None
    ) -> KeyInfo:
        """Create a key pair under ``name``; an existing name is never overwritten."""
        check_name(name)
        if algorithm not in ALGORITHMS:
            raise SigningKeyError(
                f"unknown algorithm {algorithm!r}: choose one of {', '.join(ALGORITHMS)}"
            )
        if passphrase is not None and not passphrase:
            raise SigningKeyError("empty passphrase: give a non-empty one, or none")
        private_path, public_path = self.private_path(name), self.public_path(name)
        if private_path.exists() or public_path.exists():
            raise SigningKeyError(f"a key named {name!r} already exists in {self.path}")
        key: PrivateKey = (
            Ed25519PrivateKey.generate()
            if algorithm == "ed25519"
            else ec.generate_private_key(ec.SECP256R1())
        )
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(passphrase)
            if passphrase
            else serialization.NoEncryption()
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Public key first: a crash in between leaves a harmless orphan .pub, never a
        # private key without its public half.
        try:
            _write_exclusive(public_path, public_key_pem(key.public_key()).encode(), 0o644)
            try:
                _write_exclusive(private_path, pem, 0o600)
            except BaseException:
                public_path.unlink(missing_ok=True)
                raise
        except FileExistsError:
            raise SigningKeyError(f"a key named {name!r} already exists in {self.path}") from None
        _fsync_dir(self.path)
        return self.info(name)

    def info(self, name: str) -> KeyInfo:
        """Describe one key from its public half (no passphrase needed)."""
        private_path, public_path = self.private_path(name), self.public_path(name)
        try:
            public = load_public_pem(public_path.read_bytes())
            head = private_path.read_bytes()[:64]
            created = datetime.fromtimestamp(private_path.stat().st_mtime, UTC)
        except FileNotFoundError:
            raise self._missing(name) from None
        except SigningKeyError as exc:
            raise SigningKeyError(f"{public_path}: {exc}") from None
        except OSError as exc:
            raise SigningKeyError(f"cannot read key {name!r}: {exc.strerror}") from None
        return KeyInfo(
            name=name,
            algorithm=algorithm_of(public),
            key_id=key_id(public),
            created=created.replace(microsecond=0),
            encrypted=head.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----"),
            private_path=private_path,
            public_path=public_path,
        )

    def names(self) -> list[str]:
        if not self.path.is_dir():
            return []
        return sorted(
            p.name.removesuffix(KEY_SUFFIX)
            for p in self.path.glob(f"*{KEY_SUFFIX}")
            if _NAME.fullmatch(p.name.removesuffix(KEY_SUFFIX)) and not p.name.startswith(".")
        )

    def list_keys(self) -> list[KeyInfo]:
        """Every key in the keyring, by name."""
        return [self.info(name) for name in self.names()]

    def public_pem(self, name: str) -> str:
        """The public key of ``name`` as PEM (what a verifier is given to trust)."""
        return public_key_pem(self._public_key(name))

    def load_signer(self, name: str, passphrase: bytes | None = None) -> Signer:
        """Load ``name``'s private key; refuse it when others can read it or it does not
        match its public half."""
        path = self.private_path(name)
        try:
            mode = path.stat().st_mode
            data = path.read_bytes()
        except FileNotFoundError:
            raise self._missing(name) from None
        except OSError as exc:
            raise SigningKeyError(f"cannot read key {name!r} ({path}): {exc.strerror}") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SigningKeyError(
                f"{path} is accessible by other users (mode {stat.S_IMODE(mode):o}); "
                f"run `chmod 600 {path}`"
            )
        try:
            key = serialization.load_pem_private_key(data, password=passphrase or None)
        except TypeError:
            if passphrase:
                raise SigningKeyError(
                    f"key {name!r} is not encrypted: load it without a passphrase"
                ) from None
            raise SigningKeyError(
                f"key {name!r} is encrypted: a passphrase is needed to use it"
            ) from None
        except ValueError as exc:
            if "password" in str(exc).lower():
                raise SigningKeyError(f"wrong passphrase for key {name!r}") from None
            raise SigningKeyError(
                f"key {name!r} ({path}) is corrupt: not a readable PEM private key"
            ) from None
        if not isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise SigningKeyError(f"key {name!r} is of an unsupported type {type(key).__name__}")
        signer = Signer(key, name=name)
        algorithm_of(key)
        if key_id(self._public_key(name)) != signer.key_id:
            raise SigningKeyError(
                f"key {name!r}: {self.public_path(name).name} is not the public half of {path.name}"
            )
        return signer

    def _public_key(self, name: str) -> PublicKey:
        path = self.public_path(name)
        try:
            return load_public_pem(path.read_bytes())
        except FileNotFoundError:
            raise self._missing(name) from None
        except SigningKeyError as exc:
            raise SigningKeyError(f"{path} is corrupt: {exc}") from None

    def _missing(self, name: str) -> SigningKeyError:
        known = self.names()
        listing = f"keys here: {', '.join(known)}" if known else "it holds no keys"
        return SigningKeyError(
            f"no key named {name!r} in {self.path} ({listing}; create one with "
            f"`pedigree keys generate --name {name}`)"
        )


def _keyring(keyring: Keyring | str | Path | None) -> Keyring:
    if isinstance(keyring, Keyring):
        return keyring
    return Keyring.default() if keyring is None else Keyring(keyring)


def generate(
    name: str,
    algorithm: str = "ed25519",
    passphrase: bytes | None = None,
    *,
    keyring: Keyring | str | Path | None = None,
) -> KeyInfo:
    """``Keyring.generate`` on ``keyring`` (default: the current store's ``keys/``)."""
    return _keyring(keyring).generate(name, algorithm, passphrase)


def list_keys(*, keyring: Keyring | str | Path | None = None) -> list[KeyInfo]:
    return _keyring(keyring).list_keys()


def public_pem(name: str, *, keyring: Keyring | str | Path | None = None) -> str:
    return _keyring(keyring).public_pem(name)


def load_signer(
    name: str, passphrase: bytes | None = None, *, keyring: Keyring | str | Path | None = None
) -> Signer:
    return _keyring(keyring).load_signer(name, passphrase)
