"""The ``Ledger``: one append-only, signed, Merkle-hashed log and its query tables.

Every write goes through ``append_many``: in one transaction under the write lock it
checks each record against what is recorded, numbers it, hashes it into the tree,
updates the projections, and signs the new tree head. So the latest signed head always
covers every acknowledged record, and a crash leaves either all of a batch or none.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, bindparam, select, update

from pedigree import __version__
from pedigree.errors import (
    ConflictError,
    NotFoundError,
    RecordError,
    SigningKeyError,
    StoreError,
)
from pedigree.ledger import commitments, merkle
from pedigree.ledger.canonical import Envelope, canonical_json
from pedigree.ledger.checkpoint import (
    SignedCheckpoint,
    key_id,
    load_public_key,
    public_key_pem,
    sign_checkpoint,
    verify_checkpoint,
)
from pedigree.ledger.commitments import Disclosure
from pedigree.ledger.proofs import (
    ConsistencyEvidence,
    ConsistencyProof,
    InclusionProof,
    RecordEvidence,
)
from pedigree.model import (
    LogEntry,
    RecordBody,
    VersionRef,
    body_to_json,
    format_time,
    parse_submission,
    parse_time,
)
from pedigree.model.actor import default_actor
from pedigree.store import audit as audit_mod
from pedigree.store import catalog, queries
from pedigree.store import disclosures as disclosure_store
from pedigree.store import schema as t
from pedigree.store.config import StoreLocation, locate
from pedigree.store.engine import (
    HEAD_REVISION,
    Prepared,
    Rows,
    bulk_insert,
    current_revision,
    db_errors,
    in_pipelined_transaction,
    key_chunks,
    listed,
    make_engine,
    migrate,
    refresh_statistics,
    write_transaction,
)
from pedigree.store.keys import create_signing_key, load_public_key_file, load_signing_key
from pedigree.store.lookup import Found
from pedigree.store.nodes import Selection, resolve
from pedigree.store.projection import Projector
from pedigree.store.schema import as_bytes

TILE_LEVEL = 8
"""Perfect subtrees of this level and above are stored; smaller ones are rehashed from
leaves when a proof needs them (at most 255 leaf hashes), which keeps appends lean."""

STATISTICS_FROM = 1 << 10
STATISTICS_UNTIL = 1 << 22
"""On PostgreSQL the projections' statistics are refreshed as the log reaches each power of
two in this range (``Ledger._grown``); beyond it autovacuum keeps up."""

_PLANNED = [table.name for table in t.PROJECTIONS]
"""The projections, whose look-ups' plans depend on their sizes (the log itself is only
read by its key)."""

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Appended:
    """Where a record landed. ``existing`` means an identical record was already at ``seq``."""

    seq: int
    existing: bool = False


Alongside = Callable[[Connection, list[Appended]], None]
"""Writes more rows in an append's transaction, given where the records landed."""


@dataclass(slots=True)
class _State:
    size: int
    frontier: list[bytes]
    last_time: str
    head_json: str

    @property
    def head(self) -> SignedCheckpoint:
        return SignedCheckpoint.model_validate_json(self.head_json)


_STATE = select(t.ledger_state).where(t.ledger_state.c.id == 1)
# Every append reads and rewrites the state row: Prepared (compiled once, run by the driver).
_READ_STATE = Prepared(lambda dialect: _STATE)
_LOCK_STATE = Prepared(
    lambda dialect: _STATE.with_for_update() if dialect == "postgresql" else _STATE
)
_UPDATE_STATE = Prepared(
    lambda dialect: (
        update(t.ledger_state)
        .where(t.ledger_state.c.id == 1)
        .values({name: bindparam(name) for name in ("size", "frontier", "last_time", "head")})
    )
)


class _CollectionPause:
    """No cyclic garbage collection while a batch is appended.

    A batch allocates many short-lived objects and frees them at once; with a large heap
    (a bulk import holding its records in memory) every collection the allocations
    trigger walks the whole heap, which measured 20-35 % of a 10,000-record append.
    Reference counting still frees everything at once; only cycles wait for the end of
    the batch. Concurrent appends share the pause; the last one to finish ends it, and
    collection resumes only if it was on before.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._batches = 0
        self._was_enabled = False

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._batches == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._batches += 1
        try:
            yield
        finally:
            with self._lock:
                self._batches -= 1
                if self._batches == 0 and self._was_enabled:
                    gc.enable()


_gc_paused = _CollectionPause()


class Ledger:
    """Open with ``Ledger.open()`` (or create with ``Ledger.init()``); close when done."""

    def __init__(
        self,
        location: StoreLocation,
        engine: Engine,
        *,
        log_id: str,
        public_key: Ed25519PublicKey,
        actor: str | None = None,
    ) -> None:
        self.location = location
        self.engine = engine
        self.log_id = log_id
        self.public_key = public_key
        self.actor = actor or default_actor()
        self._key: Ed25519PrivateKey | None = None
        self._where = location.describe()
        self._statistics: list[threading.Thread] = []  # (``ANALYZE`` runs: see ``_grown``)

    # --- opening ---------------------------------------------------------------------------

    @classmethod
    def init(
        cls,
        store: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        *,
        actor: str | None = None,
    ) -> tuple[Ledger, bool]:
        """Create (or upgrade) a store; returns the ledger and whether it was new."""
        location = locate(store, database_url, for_init=True)
        try:
            location.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(
                f"cannot create the store directory {location.path}: {exc.strerror}"
            ) from None
        engine = make_engine(location.url)
        where = location.describe()
        with db_errors(where):
            migrate(engine)
            with write_transaction(engine) as conn:
                meta = _read_meta(conn)
                if meta:
                    ledger = cls(
                        location,
                        engine,
                        log_id=meta["log_id"],
                        public_key=load_public_key(meta["public_key"]),
                        actor=actor,
                    )
                    ledger._signing_key()  # the key here must be this ledger's
                    return ledger, False
                if location.key_path.exists():
                    key = load_signing_key(location.key_path)
                else:
                    key = create_signing_key(location.key_path, location.public_key_path)
                log_id = str(uuid.uuid4())
                now = datetime.now(UTC)
                conn.execute(
                    t.meta.insert(),
                    [
                        {"key": "log_id", "value": log_id},
                        {"key": "public_key", "value": public_key_pem(key.public_key())},
                        {"key": "key_id", "value": key_id(key.public_key())},
                        {"key": "created_at", "value": format_time(now)},
                        {"key": "created_by", "value": f"pedigree {__version__}"},
                    ],
                )
                head = sign_checkpoint(key, log_id=log_id, size=0, root=merkle.EMPTY_ROOT, time=now)
                conn.execute(
                    t.ledger_state.insert(),
                    {
                        "id": 1,
                        "size": 0,
                        "frontier": b"",
                        "last_time": format_time(now),
                        "head": head.model_dump_json(),
                    },
                )
                conn.execute(t.checkpoints.insert(), {"size": 0, "signed": head.model_dump_json()})
        ledger = cls(location, engine, log_id=log_id, public_key=key.public_key(), actor=actor)
        ledger._key = key
        return ledger, True

    @classmethod
    def open(
        cls,
        store: str | os.PathLike[str] | None = None,
        database_url: str | None = None,
        *,
        actor: str | None = None,
    ) -> Ledger:
        """Open an existing store (see ``pedigree.store.config`` for where it is looked for)."""
        location = locate(store, database_url)
        if location.backend == "sqlite" and not location.sqlite_path.exists():
            raise StoreError(f"no Pedigree store at {location.path} (run `pedigree init` first)")
        engine = make_engine(location.url)
        where = location.describe()
        with db_errors(where), engine.connect() as conn:
            revision = current_revision(conn)
            head = HEAD_REVISION
            if revision is None:
                raise StoreError(f"{where} is not a Pedigree store (run `pedigree init`)")
            if revision != head:
                raise StoreError(
                    f"the store at {where} is at schema revision {revision}, this Pedigree "
                    f"expects {head}: run `pedigree init` to upgrade it"
                    if revision < head
                    else f"the store at {where} was written by a newer Pedigree (revision {revision})"
                )
            meta = _read_meta(conn)
        if not meta:
            raise StoreError(f"{where} has no ledger yet (run `pedigree init`)")
        return cls(
            location,
            engine,
            log_id=meta["log_id"],
            public_key=load_public_key(meta["public_key"]),
            actor=actor,
        )

    def close(self) -> None:
        """Wait for a statistics refresh still running (see ``_grown``), then close the
        connections."""
        for thread in self._statistics:
            thread.join()
        self.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    def _signing_key(self) -> Ed25519PrivateKey:
        if self._key is None:
            key = load_signing_key(self.location.key_path)
            if key_id(key.public_key()) != self.key_id:
                raise SigningKeyError(
                    f"the signing key {self.location.key_path} (id {key_id(key.public_key())[:16]}…) "
                    f"is not this ledger's key (id {self.key_id[:16]}…)"
                )
            self._key = key
        return self._key

    def trusted_key(self) -> Ed25519PublicKey:
        """The key to audit against: the store directory's, not the database's copy."""
        if self.location.public_key_path.exists():
            return load_public_key_file(self.location.public_key_path)
        if self.location.key_path.exists():
            return self._signing_key().public_key()
        return self.public_key

    # --- writing ----------------------------------------------------------------------------

    def append(self, record: RecordBody | dict[str, Any], *, actor: str | None = None) -> Appended:
        """Append one record (a model, or ``{"schema": …, "body": …}``)."""
        return self.append_many([record], actor=actor)[0]

    @_gc_paused()
    def append_many(
        self,
        records: Iterable[RecordBody | dict[str, Any]],
        *,
        actor: str | None = None,
        disclosures: Iterable[Disclosure] = (),
        idempotency_keys: Sequence[str | None] | None = None,
        alongside: Alongside | None = None,
    ) -> list[Appended]:
        """Append records atomically, in order; a later one may refer to an earlier one.

        ``disclosures`` are the values behind commitments the records hold; they are
        stored (sealed) in the same transaction, outside the log. ``idempotency_keys``
        (one per record, or ``None``) make a retried delivery return the records already
        appended rather than append them again; a key re-used for other content is refused.
        ``alongside`` writes whatever else must commit with the records, or not at all
        (the server's access-log row of the request that sent them), given the results.
        """
        bodies = _bodies(list(records))  # (validated before taking the lock)
        if not bodies:
            return []
        keys, encoded = _idempotency(idempotency_keys, bodies)
        disclosures = list(disclosures)
        sealing = disclosure_store.SecretsKeys.load(self.location.path) if disclosures else None
        key = self._signing_key()  # (read before taking the lock)
        with db_errors(self._where), write_transaction(self.engine, pipeline=True) as conn:
            locked = _LOCK_STATE.deferred(conn)  # (on PostgreSQL, answered with the look-ups)
            state, results = self._append_locked(
                conn, key, locked, bodies, actor, keys, encoded=encoded
            )
            if sealing is not None:
                disclosure_store.put(conn, disclosures, sealing)
            if alongside is not None:
                alongside(conn, results)
        self._grown(state.size, results)
        return results

    def append_derived(
        self,
        derive: Callable[[Connection], Sequence[RecordBody]],
        *,
        actor: str | None = None,
        alongside: Alongside | None = None,
        known: Found | None = None,
        wait: bool = True,
    ) -> list[Appended]:
        """Append the records ``derive`` computes from what the ledger holds, reading and
        appending in one write transaction.

        ``derive`` gets the transaction's connection, with the write lock already held, so
        no other writer (thread or process) changes what it reads before its records are
        appended: OpenLineage events of one run, merged into the run's current record, stay
        merged when several servers take events at once. An error it raises appends nothing.
        ``alongside`` is as for ``append_many``. ``known`` may be what ``derive`` looked up
        (``lookup.load(into=known)``), so projecting its records looks none of it up again.
        ``wait=False``: when another connection holds the SQLite write lock, raise
        ``WriteLockBusy`` at once (nothing done) instead of waiting for it.
        """
        key = self._signing_key()  # (read before taking the lock)
        with (
            _gc_paused(),
            db_errors(self._where),
            write_transaction(self.engine, wait=wait, pipeline=True) as conn,
        ):
            locked = _LOCK_STATE.deferred(conn)  # (on PostgreSQL, answered with derive's reads)
            bodies = _bodies(list(derive(conn)))
            state, results = self._append_locked(conn, key, locked, bodies, actor, None, known)
            if alongside is not None:
                alongside(conn, results)
        self._grown(state.size, results)
        return results

    def _grown(self, before: int, results: list[Appended]) -> None:
        """On PostgreSQL, refresh the projections' statistics when the log has just reached
        a power of two from ``STATISTICS_FROM`` to ``STATISTICS_UNTIL`` records.

        A young store's tables outgrow their statistics faster than autovacuum (once a
        minute at most) refreshes them, and statements planned meanwhile keep plans made
        for nearly empty tables: an ingest's look-up of runs by id went on reading the
        whole ``runs`` table (0.1 ms per commit at first, 1.3 ms two thousand runs later).
        ``ANALYZE`` makes every connection plan them afresh. (SQLite plans from its
        indexes, without statistics.)

        It runs in a thread of its own (``close`` waits for it): it reads samples of every
        projection table, about 0.2 s at 450,000 records, and the append that reached the
        power of two is answered meanwhile, as is every append queued behind it in a
        server."""
        if self.engine.dialect.name != "postgresql" or before >= STATISTICS_UNTIL:
            return
        after = max((r.seq for r in results), default=before)
        if before.bit_length() < after.bit_length() and after >= STATISTICS_FROM:
            self._statistics = [running for running in self._statistics if running.is_alive()]
            thread = threading.Thread(
                target=refresh_statistics,
                args=(self.engine, _PLANNED),
                name="pedigree-statistics",
            )
            self._statistics.append(thread)
            thread.start()

    def _append_locked(
        self,
        conn: Connection,
        key: Ed25519PrivateKey,
        locked: Callable[[], Rows],
        bodies: list[RecordBody],
        actor: str | None,
        keys: list[tuple[str, bytes] | None] | None,
        known: Found | None = None,
        encoded: dict[int, tuple[str, bytes]] | None = None,
    ) -> tuple[_State, list[Appended]]:
        """Number, canonicalise, hash, project and sign ``bodies``; ``locked`` gives the
        ledger state, read with the write lock held. Returns that state (before) and the
        results. ``encoded``: (schema id, canonical bytes) of some bodies, by position.

        Its reads (the state, the idempotency keys already used, what the records refer
        to) are all sent before the first answer is needed: on PostgreSQL, inside a
        pipelined transaction, one round trip for all of them. Its writes go every
        ``SEND_EVERY`` records (or ``SEND_BYTES`` of them) there, without waiting for
        them: the server stores one part while the next is canonicalised and projected,
        instead of all at the end."""
        actor = actor or self.actor
        results: list[Appended] = []
        replayed = _replayed(conn, keys)
        projector = Projector(conn, known)
        projector.prefetch(bodies)
        state = self._state_of(locked().first())
        now_dt = datetime.now(UTC)
        now = format_time(now_dt)
        if now < state.last_time:  # the clock stepped back: keep log time monotonic
            now, now_dt = state.last_time, parse_time(state.last_time)
        size, frontier = state.size, state.frontier
        seen = replayed()
        rows: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        envelope = Envelope(actor, now)
        fresh_keys: list[dict[str, Any]] = []
        encoded = encoded or {}
        send, part_bytes = in_pipelined_transaction(conn), 0

        def write_rows() -> None:
            """Write the log rows so far, their projections and tree nodes (on PostgreSQL,
            only sent)."""
            bulk_insert(conn, t.records, rows)
            projector.flush()
            bulk_insert(conn, t.merkle_nodes, nodes)
            rows.clear()
            nodes.clear()

        for position, body in enumerate(bodies, start=1):
            idem = keys[position - 1] if keys else None
            if idem is not None and idem[0] in seen:
                results.append(Appended(seen[idem[0]], existing=True))
                continue
            try:
                schema, body_bytes = encoded.get(position) or _encode(body)
                existing = projector.apply(size + 1, now, body, body_bytes)
            except RecordError as exc:
                raise _itemised(exc, position, len(bodies)) from None
            if idem is not None:
                fresh_keys.append({"key": idem[0], "seq": existing or size + 1, "digest": idem[1]})
            if existing is not None:
                results.append(Appended(existing, existing=True))
                continue
            if send and (len(rows) == SEND_EVERY or part_bytes >= SEND_BYTES):
                write_rows()
                part_bytes = 0
            size += 1
            data = envelope(body=body_bytes, schema=schema, seq=size)
            part_bytes += len(data)
            leaf = merkle.leaf_hash(data)
            for level, idx, digest in merkle.append_leaf(frontier, size - 1, leaf, TILE_LEVEL):
                nodes.append({"level": level, "idx": idx, "hash": digest})
            rows.append(
                {
                    "seq": size,
                    "time": now,
                    "actor": actor,
                    "schema": schema,
                    "canonical": data,
                    "leaf_hash": leaf,
                }
            )
            results.append(Appended(size))
        # (both callers' transactions are pipelined on PostgreSQL: these are only sent)
        if size > state.size:
            write_rows()
            self._write_head(conn, key, size, frontier, now_dt)
        bulk_insert(conn, t.idempotency_keys, fresh_keys)
        return state, results

    # --- confidential values ------------------------------------------------------------

    def commit(self, value: Any) -> Disclosure:
        """A commitment to ``value`` whose salt is keyed by this store's secrets key, so the
        same value always gets the same commitment here (a confidential source used twice is
        one version) while nobody without the key can test a guess against it."""
        keys = disclosure_store.SecretsKeys.load(self.location.path)
        return commitments.commit(value, salt=keys.salt_for(value))

    def disclosure(self, commitment: str) -> Disclosure:
        """The value and salt behind a commitment a record holds (``NotFoundError`` if
        this store never held it or it was erased)."""
        keys = disclosure_store.SecretsKeys.load(self.location.path, create=False)
        with self._connect() as conn:
            return disclosure_store.get(conn, commitment, keys)

    def erase_disclosure(self, commitment: str) -> None:
        """Erase the value behind a commitment; the log, which holds only the commitment,
        still verifies."""
        with db_errors(self._where), write_transaction(self.engine) as conn:
            disclosure_store.erase(conn, commitment)

    def rotate_secrets(self) -> tuple[int, str]:
        """Seal every stored value under a new secrets key; (values resealed, new key id).

        The new key is written in front of the old ones first, so a crash at any point
        leaves every value openable; the old keys are dropped once all are resealed. With
        ``$PEDIGREE_SECRETS_KEY`` the new key is the one its holder put first there: every
        value is resealed with it, and the old keys can then be dropped from the variable.
        """
        path = self.location.path / disclosure_store.KEY_FILENAME
        old = disclosure_store.SecretsKeys.load(self.location.path)
        if old.source != str(path):
            if len(old.keys) < 2:
                raise SigningKeyError(
                    f"the secrets key comes from ${disclosure_store.KEY_ENV}: put a new key "
                    "first there and the old one after it, then rotate"
                )
            with db_errors(self._where), write_transaction(self.engine) as conn:
                return disclosure_store.reseal(conn, old), old.current
        new_key = disclosure_store.new_key()
        disclosure_store.write_key_file(path, [new_key, *old.keys.values()])
        keys = disclosure_store.SecretsKeys.load(self.location.path)
        with db_errors(self._where), write_transaction(self.engine) as conn:
            count = disclosure_store.reseal(conn, keys)
        disclosure_store.write_key_file(path, [new_key])
        return count, keys.current

    def _write_head(
        self,
        conn: Connection,
        key: Ed25519PrivateKey,
        size: int,
        frontier: list[bytes],
        now: datetime,
    ) -> SignedCheckpoint:
        head = sign_checkpoint(
            key, log_id=self.log_id, size=size, root=merkle.fold(frontier), time=now
        )
        _UPDATE_STATE(
            conn,
            size=size,
            frontier=b"".join(frontier),
            last_time=format_time(now),
            head=head.model_dump_json(),
        )
        return head

    def _state(self, conn: Connection, *, lock: bool = False) -> _State:
        return self._state_of((_LOCK_STATE if lock else _READ_STATE)(conn).first())

    def _state_of(self, row: Any) -> _State:
        if row is None:
            raise StoreError(f"{self._where} has no ledger state (run `pedigree init`)")
        blob = as_bytes(row.frontier)
        if len(blob) != 32 * len(merkle.frontier_levels(row.size)):
            raise StoreError("the stored tree frontier is damaged (run `pedigree audit`)")
        frontier = [blob[i : i + 32] for i in range(0, len(blob), 32)]
        return _State(row.size, frontier, row.last_time, row.head)

    # --- checkpoints and proofs -------------------------------------------------------------

    def head(self) -> SignedCheckpoint:
        """The latest signed tree head: it covers every acknowledged record."""
        with self._connect() as conn:
            return self._state(conn).head

    @property
    def size(self) -> int:
        return self.head().size

    def checkpoint(self) -> SignedCheckpoint:
        """Sign the current tree head afresh and keep it, for later consistency proofs."""
        key = self._signing_key()
        with db_errors(self._where), write_transaction(self.engine) as conn:
            state = self._state(conn, lock=True)
            verify_checkpoint(state.head, self.public_key)
            root = merkle.fold(state.frontier)
            if root != state.head.root:
                raise StoreError(
                    "the stored tree frontier does not match the signed head (run `pedigree audit`)"
                )
            signed = sign_checkpoint(
                key, log_id=self.log_id, size=state.size, root=root, time=datetime.now(UTC)
            )
            conn.execute(
                t.checkpoints.insert(), {"size": signed.size, "signed": signed.model_dump_json()}
            )
        return signed

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Stored checkpoints, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                select(t.checkpoints.c.signed).order_by(t.checkpoints.c.id)
            ).scalars()
            return [SignedCheckpoint.model_validate_json(r) for r in rows]

    def _checkpoint_of_size(self, conn: Connection, size: int | None) -> SignedCheckpoint:
        head = self._state(conn).head
        if size is None or size == head.size:
            return head
        row = conn.execute(
            select(t.checkpoints.c.signed)
            .where(t.checkpoints.c.size == size)
            .order_by(t.checkpoints.c.id.desc())
        ).first()
        if row is None:
            sizes = sorted(set(conn.execute(select(t.checkpoints.c.size)).scalars()) | {head.size})
            raise NotFoundError(
                f"no signed checkpoint of size {size} (signed sizes: {', '.join(map(str, sizes[-12:]))})"
            )
        return SignedCheckpoint.model_validate_json(row.signed)

    def _perfect(
        self, conn: Connection
    ) -> Callable[[list[merkle.Perfect]], dict[merkle.Perfect, bytes]]:
        def fetch(parts: list[merkle.Perfect]) -> dict[merkle.Perfect, bytes]:
            out: dict[merkle.Perfect, bytes] = {}
            for level, idx in parts:
                if level >= TILE_LEVEL:
                    row = conn.execute(
                        select(t.merkle_nodes.c.hash).where(
                            t.merkle_nodes.c.level == level, t.merkle_nodes.c.idx == idx
                        )
                    ).first()
                    if row is None:
                        raise StoreError(
                            f"Merkle node {level}/{idx} is missing (run `pedigree audit`)"
                        )
                    out[(level, idx)] = bytes(row.hash)
                else:
                    first, last = idx << level, (idx + 1) << level  # leaves, 0-based
                    leaves = conn.execute(
                        select(t.records.c.leaf_hash)
                        .where(t.records.c.seq > first, t.records.c.seq <= last)
                        .order_by(t.records.c.seq)
                    ).scalars()
                    out[(level, idx)] = merkle.root(bytes(x) for x in leaves)
            return out

        return fetch

    def prove(self, seq: int, *, tree_size: int | None = None) -> RecordEvidence:
        """Inclusion proof of record ``seq`` against the head (or a stored checkpoint's size)."""
        with self._connect() as conn:
            checkpoint = self._checkpoint_of_size(conn, tree_size)
            if not 1 <= seq <= checkpoint.size:
                raise NotFoundError(
                    f"record {seq} is not in the signed tree of size {checkpoint.size}"
                )
            row = conn.execute(select(t.records.c.canonical).where(t.records.c.seq == seq)).first()
            if row is None:
                raise NotFoundError(f"record {seq} is missing from the log (run `pedigree audit`)")
            ranges = merkle.inclusion_ranges(seq - 1, checkpoint.size)
            hashes = merkle.resolve_ranges(ranges, self._perfect(conn))
        return RecordEvidence(
            record=json.loads(row.canonical),
            proof=InclusionProof(
                seq=seq,
                leaf_index=seq - 1,
                tree_size=checkpoint.size,
                hashes=[h.hex() for h in hashes],
            ),
            checkpoint=checkpoint,
        )

    def prove_consistency(self, first: int, second: int | None = None) -> ConsistencyEvidence:
        """Proof that the tree at ``second`` (default: now) extends the tree at ``first``."""
        with self._connect() as conn:
            new = self._checkpoint_of_size(conn, second)
            old = self._checkpoint_of_size(conn, first)
            if old.size > new.size:
                raise NotFoundError(
                    f"size {old.size} is after size {new.size}; give the older first"
                )
            ranges = merkle.consistency_ranges(old.size, new.size)
            hashes = merkle.resolve_ranges(ranges, self._perfect(conn))
        return ConsistencyEvidence(
            proof=ConsistencyProof(
                first_size=old.size, second_size=new.size, hashes=[h.hex() for h in hashes]
            ),
            first=old,
            second=new,
        )

    # --- reading the log --------------------------------------------------------------------

    def entry(self, seq: int) -> LogEntry:
        with self._connect() as conn:
            row = conn.execute(
                select(t.records.c.canonical, t.records.c.leaf_hash).where(t.records.c.seq == seq)
            ).first()
        if row is None:
            raise NotFoundError(f"no record {seq} in the log")
        return LogEntry.from_canonical(bytes(row.canonical), bytes(row.leaf_hash))

    def entries(
        self,
        *,
        types: list[str] | None = None,
        job: str | None = None,
        dataset: str | None = None,
        since: int | str | datetime | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[LogEntry]:
        """Records in log order, filtered by type (``run``…), job, dataset or model, and start
        (a record number, or a time: records at or after it)."""
        with self._connect() as conn:
            return queries.log_entries(
                conn,
                types=types,
                job=job,
                dataset=dataset,
                since=since,
                limit=limit,
                newest_first=newest_first,
            )

    # --- browsing (page by page; see pedigree.store.catalog) -------------------------------

    def datasets(
        self,
        *,
        query: str | None = None,
        namespace: str | None = None,
        kind: str | None = None,
        allowed: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Datasets and models (``kind``) whose name or namespace contains ``query``, in
        ``namespace`` or among the ``allowed`` ones: (total matching, one page)."""
        with self._connect() as conn:
            return catalog.datasets(
                conn,
                query=query,
                namespace=namespace,
                kind=kind,
                allowed=allowed,
                limit=limit,
                offset=offset,
            )

    def jobs(
        self,
        *,
        query: str | None = None,
        namespace: str | None = None,
        allowed: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Jobs with their run count and latest run: (total matching, one page)."""
        with self._connect() as conn:
            return catalog.jobs(
                conn, query=query, namespace=namespace, allowed=allowed, limit=limit, offset=offset
            )

    def runs(
        self,
        *,
        job: str | None = None,
        status: str | None = None,
        kind: str | None = None,
        allowed: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """Runs (current records), newest first, of one ``job`` if given: (total
        matching, one page)."""
        with self._connect() as conn:
            return catalog.runs(
                conn, job=job, status=status, kind=kind, allowed=allowed, limit=limit, offset=offset
            )

    def run_namespaces(self, run_ids: Iterable[str]) -> dict[str, str]:
        """The namespace (of its job) of each recorded run id."""
        with self._connect() as conn:
            return catalog.run_namespaces(conn, run_ids)

    def records_holding(self, needle: str) -> list[int]:
        """Seqs of the records whose canonical bytes contain ``needle`` (a commitment)."""
        with self._connect() as conn:
            return catalog.records_holding(conn, needle)

    # --- lineage ----------------------------------------------------------------------------

    def as_of(self, value: int | str | datetime | None) -> int | None:
        """A log position from a seq, an ISO time or a datetime (``None`` means now)."""
        with self._connect() as conn:
            return queries.as_of_seq(conn, value)

    def resolve(self, ref: str, *, as_of: int | str | datetime | None = None) -> Selection:
        with self._connect() as conn:
            return resolve(conn, ref, queries.as_of_seq(conn, as_of))

    def recorded(self, refs: Iterable[VersionRef]) -> set[VersionRef]:
        """The dataset and model versions among ``refs`` that are already recorded."""
        wanted = list(refs)
        if not wanted:
            return set()
        with self._connect() as conn:
            return queries.recorded_versions(conn, wanted)

    def versions_named(self, version: str) -> list[VersionRef]:
        """The datasets and models holding a version with this id, newest first."""
        with self._connect() as conn:
            return queries.versions_named(conn, version)

    def trace(
        self,
        ref: str,
        *,
        direction: str = "up",
        depth: int | None = None,
        as_of: int | str | datetime | None = None,
    ) -> queries.Graph:
        """The upstream (``up``) or downstream (``down``) closure of a node."""
        with self._connect() as conn:
            return queries.trace(conn, ref, direction, depth, queries.as_of_seq(conn, as_of))

    def path(
        self, source: str, target: str, *, as_of: int | str | datetime | None = None
    ) -> queries.Graph | None:
        """How ``source`` leads to ``target`` (or ``target`` to ``source``), or ``None``."""
        with self._connect() as conn:
            return queries.path(conn, source, target, queries.as_of_seq(conn, as_of))

    def impact(self, ref: str, *, as_of: int | str | datetime | None = None) -> queries.Graph:
        """Everything downstream of a node, each with its kind and status."""
        return self.trace(ref, direction="down", as_of=as_of)

    def show(self, ref: str, *, as_of: int | str | datetime | None = None) -> queries.NodeDetails:
        with self._connect() as conn:
            return queries.show(conn, ref, queries.as_of_seq(conn, as_of))

    # --- maintenance ------------------------------------------------------------------------

    def audit(
        self, *, trusted_key: Ed25519PublicKey | None = None, progress: Progress | None = None
    ) -> audit_mod.AuditReport:
        """Recompute the whole log, its tree and every checkpoint; name the first mismatch."""
        key = trusted_key or self.trusted_key()
        with self._connect() as conn:
            return audit_mod.audit(
                conn, log_id=self.log_id, trusted_key=key, tile_level=TILE_LEVEL, progress=progress
            )

    def reindex(self, *, progress: Progress | None = None) -> int:
        """Drop and rebuild every projection from the log; returns the records replayed."""
        count = 0
        with db_errors(self._where), write_transaction(self.engine) as conn:
            self._state(conn, lock=True)
            for table in reversed(t.PROJECTIONS):
                conn.execute(table.delete())
            projector = Projector(conn)
            last = 0
            while True:
                rows = conn.execute(
                    select(t.records.c.seq, t.records.c.canonical, t.records.c.leaf_hash)
                    .where(t.records.c.seq > last)
                    .order_by(t.records.c.seq)
                    .limit(5000)
                ).all()
                if not rows:
                    break
                for row in rows:
                    entry = LogEntry.from_canonical(bytes(row.canonical), bytes(row.leaf_hash))
                    try:
                        if (
                            projector.apply(row.seq, format_time(entry.time), entry.body)
                            is not None
                        ):
                            raise RecordError("it repeats an earlier record")
                    except RecordError as exc:
                        raise StoreError(f"record {row.seq} cannot be replayed: {exc}") from None
                projector.flush()
                projector.forget_bodies()
                last = rows[-1].seq
                count += len(rows)
                if progress:
                    progress(count)
        return count

    # --- plumbing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A read transaction (one consistent snapshot), with store errors made readable."""
        with db_errors(self._where), self.engine.connect() as conn, conn.begin():
            yield conn


def _bodies(records: list[RecordBody | dict[str, Any]]) -> list[RecordBody]:
    """The records as models: models pass through, dicts are parsed as submissions. An
    error names the item when there are several."""
    out = []
    for position, record in enumerate(records, start=1):
        try:
            out.append(record if isinstance(record, RecordBody) else parse_submission(record))
        except RecordError as exc:
            raise _itemised(exc, position, len(records)) from None
    return out


def _encode(body: RecordBody) -> tuple[str, bytes]:
    """(schema id, canonical bytes) of a record's body: what its envelope splices in."""
    return body.schema_id(), canonical_json(body_to_json(body))


SEND_EVERY = 500
"""Records per part of a PostgreSQL append whose writes are sent while the next part is
prepared (see ``Ledger._append_locked``). A part costs a few statements; at 500 records
they are a small share, and the server has work from early on (measured in
``benchmarks/bench_append.py``: docs/benchmarks.md, section 1)."""
SEND_BYTES = 16 * 2**20
"""A part also ends once its log rows reach this many bytes: its rows go to the server as
one JSON parameter, hex-encoded, which a batch of large records would otherwise grow
towards PostgreSQL's 1 GB limit for one value."""


def _idempotency(
    keys: Sequence[str | None] | None, bodies: list[RecordBody]
) -> tuple[list[tuple[str, bytes] | None] | None, dict[int, tuple[str, bytes]]]:
    """(key, digest of the record) per record, checked: one per record, unique, short;
    and the encoded bodies of the keyed records, by position (from 1)."""
    if keys is None:
        return None, {}
    if len(keys) != len(bodies):
        raise RecordError(f"{len(keys)} idempotency keys for {len(bodies)} records")
    given = [k for k in keys if k is not None]
    if len(set(given)) != len(given):
        raise RecordError("an idempotency key appears twice in one batch")
    for k in given:
        if not 1 <= len(k) <= 128 or not k.isprintable():
            raise RecordError("an idempotency key is 1-128 printable characters")
    encoded: dict[int, tuple[str, bytes]] = {}
    digests: list[tuple[str, bytes] | None] = []
    for position, (k, body) in enumerate(zip(keys, bodies, strict=True), start=1):
        if k is None:
            digests.append(None)
            continue
        try:
            schema, data = encoded[position] = _encode(body)
        except RecordError as exc:
            raise _itemised(exc, position, len(bodies)) from None
        digests.append((k, hashlib.sha256(schema.encode() + b"\n" + data).digest()))
    return digests, encoded


def _replayed(
    conn: Connection, keys: list[tuple[str, bytes] | None] | None
) -> Callable[[], dict[str, int]]:
    """Seq per key already used, once called (the look-up is sent now: see ``deferred``);
    a key used before for other content is a conflict."""
    wanted = {k[0]: k[1] for k in keys or () if k is not None}
    if not wanted:
        return lambda: {}
    answers = [_Q_USED_KEYS.deferred(conn, keys=chunk) for chunk in key_chunks(wanted)]

    def seen() -> dict[str, int]:
        rows = [row for answer in answers for row in answer()]
        for row in rows:
            if as_bytes(row.digest) != wanted[row.key]:
                raise ConflictError(
                    f"idempotency key {row.key!r} was used for another record (record {row.seq})"
                )
        return {row.key: row.seq for row in rows}

    return seen


_Q_USED_KEYS = Prepared(
    lambda dialect: select(
        t.idempotency_keys.c.key, t.idempotency_keys.c.seq, t.idempotency_keys.c.digest
    ).where(listed(t.idempotency_keys.c.key, dialect, name="keys"))
)


def _itemised(exc: RecordError, position: int, total: int) -> RecordError:
    """The same error naming the item it is about, when a batch holds several."""
    return exc if total == 1 else type(exc)(f"item {position} of {total}: {exc}")


def _read_meta(conn: Connection) -> dict[str, str]:
    return {row.key: row.value for row in conn.execute(select(t.meta.c.key, t.meta.c.value))}


__all__ = ["Alongside", "Appended", "Ledger", "Progress"]
