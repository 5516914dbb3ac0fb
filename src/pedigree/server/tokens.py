"""API tokens: created once and shown once, stored only as their SHA-256, with an
optional expiry, revocable.

A token reads ``pdg_<id>_<secret>``: the id (public, shown by ``pedigree tokens list``
and written in the access log) finds the row, and the SHA-256 of the whole token is
compared in constant time with the stored one. The secret is 32 random bytes, so a
plain hash (no salt, no stretching) is enough: nothing smaller than the secret can be
guessed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from pedigree.errors import NotFoundError, PedigreeError
from pedigree.model import format_time, parse_time
from pedigree.server.auth import Principal, Role
from pedigree.store import Ledger
from pedigree.store import schema as t
from pedigree.store.engine import db_errors, write_transaction

PREFIX = "pdg_"
_TOKEN = re.compile(r"^pdg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_NAME = re.compile(r"^[\w.@:/ -]{1,64}$")


class TokenError(PedigreeError):
    """A token request that cannot be honoured: bad role, expiry, name or namespace."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A stored token as listed: everything but the secret."""

    id: str
    name: str
    role: str
    namespaces: list[str]
    created_at: str
    created_by: str
    expires_at: str | None
    revoked_at: str | None

    def state(self, now: datetime | None = None) -> str:
        if self.revoked_at:
            return "revoked"
        if self.expires_at and parse_time(self.expires_at) <= (now or datetime.now(UTC)):
            return "expired"
        return "active"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "namespaces": self.namespaces,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "state": self.state(),
        }


def parse_expiry(text: str | None, now: datetime | None = None) -> datetime | None:
    """``30d``, ``12h``, ``2w`` … from now, or an ISO time; ``None``/``never``: no expiry."""
    if text is None or text.strip().lower() in ("", "never"):
        return None
    now = now or datetime.now(UTC)
    match = _DURATION.match(text)
    if match:
        amount = int(match.group(1))
        if amount <= 0:
            raise TokenError("--expires must be in the future")
        try:
            return now + timedelta(**{_UNITS[match.group(2)]: amount})
        except OverflowError:
            raise TokenError(f"--expires {text!r} is too far away") from None
    try:
        when = parse_time(text.strip())
    except ValueError:
        raise TokenError(
            f"--expires {text!r} is neither a duration (30d, 12h, 2w) nor an ISO time"
        ) from None
    if when <= now:
        raise TokenError(f"--expires {text!r} is in the past")
    return when


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def create(
    ledger: Ledger,
    *,
    role: Role | str,
    namespaces: list[str] | None = None,
    expires: datetime | None = None,
    name: str | None = None,
    created_by: str | None = None,
) -> tuple[str, TokenInfo]:
    """Create a token; returns the token (shown once, never stored) and its row."""
    try:
        role = Role(role)
    except ValueError:
        raise TokenError(
            f"unknown role {role!r} (one of {', '.join(r.value for r in Role)})"
        ) from None
    spaces = sorted(set(namespaces or []))
    for namespace in spaces:
        if not namespace.strip() or len(namespace) > 512:
            raise TokenError(f"not a namespace: {namespace!r}")
    token_id = secrets.token_hex(8)
    name = name or f"{role.value}-{token_id[:6]}"
    if not _NAME.match(name):
        raise TokenError("a token name is 1-64 letters, digits, spaces or . _ - @ : /")
    token = f"{PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
    now = datetime.now(UTC)
    info = TokenInfo(
        id=token_id,
        name=name,
        role=role.value,
        namespaces=spaces,
        created_at=format_time(now),
        created_by=created_by or ledger.actor,
        expires_at=format_time(expires) if expires else None,
        revoked_at=None,
    )
    with db_errors(ledger.location.describe()), write_transaction(ledger.engine) as conn:
        conn.execute(
            t.access_tokens.insert(),
            {
                **{k: v for k, v in info.to_json().items() if k not in ("state", "namespaces")},
                "namespaces": json.dumps(spaces),
                "token_hash": _hash(token),
            },
        )
    return token, info


def _info(row: Any) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        name=row.name,
        role=row.role,
        namespaces=json.loads(row.namespaces),
        created_at=row.created_at,
        created_by=row.created_by,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
    )


def list_tokens(ledger: Ledger) -> list[TokenInfo]:
    with db_errors(ledger.location.describe()), ledger.engine.connect() as conn:
        rows = conn.execute(select(t.access_tokens).order_by(t.access_tokens.c.created_at))
        return [_info(row) for row in rows]


def revoke(ledger: Ledger, token_id: str) -> TokenInfo:
    """Revoke a token; idempotent. The next request with it gets 401 from a server in
    this process at once, and from any other within its ``Authenticator.ttl`` (1 s by
    default)."""
    now = format_time(datetime.now(UTC))
    with db_errors(ledger.location.describe()), write_transaction(ledger.engine) as conn:
        row = conn.execute(
            select(t.access_tokens).where(t.access_tokens.c.id == token_id.strip())
        ).first()
        if row is None:
            raise NotFoundError(f"no token with id {token_id!r} (see `pedigree tokens list`)")
        if row.revoked_at is None:
            conn.execute(
                update(t.access_tokens).where(t.access_tokens.c.id == row.id).values(revoked_at=now)
            )
        info = _info(row)
    for authenticator in list(_LIVE):
        authenticator.forget(row.id)
    return info if info.revoked_at else TokenInfo(**{**_as_dict(info), "revoked_at": now})


def _as_dict(info: TokenInfo) -> dict[str, Any]:
    return {name: getattr(info, name) for name in TokenInfo.__slots__}


class Rejected(Exception):
    """Why a presented token is not accepted (401)."""


def _check(ledger: Ledger, token: str) -> tuple[Principal, datetime | None]:
    """The principal a token stands for and its expiry, read from the store now;
    ``Rejected`` naming why not."""
    match = _TOKEN.match(token.strip())
    if match is None:
        raise Rejected("malformed token (expected pdg_<id>_<secret>)")
    with db_errors(ledger.location.describe()), ledger.engine.connect() as conn:
        row = conn.execute(
            select(t.access_tokens).where(t.access_tokens.c.id == match.group(1))
        ).first()
    # Compare against a dummy digest when the id is unknown, so timing says nothing.
    stored = bytes(row.token_hash) if row is not None else b"\0" * 32
    if not hmac.compare_digest(stored, _hash(token.strip())) or row is None:
        raise Rejected("unknown token")
    if row.revoked_at is not None:
        raise Rejected(f"token {row.id} was revoked at {row.revoked_at}")
    expires = parse_time(row.expires_at) if row.expires_at is not None else None
    if expires is not None and expires <= datetime.now(UTC):
        raise Rejected(f"token {row.id} expired at {row.expires_at}")
    principal = Principal(
        token_id=row.id,
        name=row.name,
        role=Role(row.role),
        namespaces=frozenset(json.loads(row.namespaces)),
    )
    return principal, expires


class Authenticator:
    """Checks bearer tokens for the server, remembering each accepted one for ``ttl``
    seconds.

    Reading the token's row costs a database round trip and a worker thread per request,
    which measured more than everything else a small request does. A remembered token is
    still refused the moment it expires, and at once when revoked through this process;
    a revocation made elsewhere (``pedigree tokens revoke``, another worker) takes effect
    within ``ttl`` seconds. ``ttl=0`` reads the row on every request. Only the token's
    SHA-256 is kept as the key, never the token.
    """

    def __init__(self, ledger: Ledger, ttl: float = 1.0) -> None:
        self.ledger = ledger
        self.ttl = ttl
        self._known: dict[bytes, tuple[float, Principal, datetime | None]] = {}
        self._lock = threading.Lock()
        _LIVE.add(self)

    def remembered(self, token: str) -> Principal | None:
        """The principal of a token accepted less than ``ttl`` seconds ago (no I/O)."""
        if self.ttl <= 0:
            return None
        entry = self._known.get(_hash(token.strip()))
        if entry is None:
            return None
        checked, principal, expires = entry
        if time.monotonic() - checked >= self.ttl:
            return None
        if expires is not None and expires <= datetime.now(UTC):
            return None  # let the store say it expired
        return principal

    def authenticate(self, token: str) -> Principal:
        """Read the token from the store (``Rejected`` naming why not) and remember it."""
        key = _hash(token.strip())
        try:
            principal, expires = _check(self.ledger, token)
        except Rejected:
            with self._lock:
                self._known.pop(key, None)
            raise
        if self.ttl > 0:
            with self._lock:
                if len(self._known) >= _MAX_REMEMBERED:
                    self._known.clear()  # many tokens in play: start afresh (rare)
                self._known[key] = (time.monotonic(), principal, expires)
        return principal

    def forget(self, token_id: str) -> None:
        """Stop accepting a token from memory (it was revoked through this process)."""
        with self._lock:
            for key, (_, principal, _) in list(self._known.items()):
                if principal.token_id == token_id:
                    del self._known[key]


_MAX_REMEMBERED = 10_000
_LIVE: weakref.WeakSet[Authenticator] = weakref.WeakSet()
"""Every authenticator in this process, so that ``revoke`` reaches them at once."""


__all__ = [
    "Authenticator",
    "Rejected",
    "TokenError",
    "TokenInfo",
    "create",
    "list_tokens",
    "parse_expiry",
    "revoke",
]
