"""Tables, shared by SQLite and PostgreSQL (SQLAlchemy Core).

``records`` is the log; ``merkle_nodes``, ``ledger_state`` and ``checkpoints`` make it
tamper-evident. Everything else is a projection of ``records``: ``pedigree reindex``
drops and rebuilds it. Graph node ids are the ``seq`` of the record that created the
node, so a rebuild gives the same ids.

The schema is created and upgraded only by Alembic migrations (``migrations/``); this
module mirrors the latest revision for queries and for the migration test.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

metadata = MetaData()

Key = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit key; on SQLite ``INTEGER PRIMARY KEY`` so it is the rowid itself (a ``BIGINT``
primary key would add a second B-tree to every table and every lookup)."""


class Blob(TypeDecorator[bytes]):
    """Binary column that always reads back as ``bytes``.

    Someone editing the database by hand can leave text (SQLite's ``replace()`` on a blob
    returns text) or a memoryview; the audit must still read it and report it.
    """

    impl = LargeBinary
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> bytes | None:
        return None if value is None else as_bytes(value)


def as_bytes(value: Any) -> bytes:
    """A stored binary value as ``bytes``, whatever the driver or a hand edit left there."""
    if type(value) is bytes:
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return bytes(value)


# --- the log and its integrity --------------------------------------------------------------

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("seq", Key, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("schema", String(128), nullable=False),
    Column("canonical", Blob, nullable=False),
    Column("leaf_hash", Blob, nullable=False),
    Index("ix_records_time", "time"),
    Index("ix_records_schema", "schema", "seq"),
)

merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", Blob, nullable=False),
)

ledger_state = Table(
    "ledger_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", Blob, nullable=False),
    Column("last_time", String(32), nullable=False),
    Column("head", Text, nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("size", BigInteger, nullable=False),
    Column("signed", Text, nullable=False),
    Index("ix_checkpoints_size", "size"),
)

# --- projections ----------------------------------------------------------------------------

datasets = Table(
    "datasets",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("namespace", Text, nullable=False),
    Column("name", Text, nullable=False),
    UniqueConstraint("namespace", "name", name="uq_datasets_namespace_name"),
    Index("ix_datasets_name", "name"),
)

versions = Table(
    "versions",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=False),
    Column("dataset_id", BigInteger, nullable=False),
    Column("version", Text, nullable=False),
    Column("fingerprint", Text),
    Column("recorded_at", String(32), nullable=False),
    UniqueConstraint("dataset_id", "version", name="uq_versions_dataset_version"),
    Index("ix_versions_dataset", "dataset_id", "id"),  # (a dataset's newest version)
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=False),
    Column("namespace", Text, nullable=False),
    Column("name", Text, nullable=False),
    UniqueConstraint("namespace", "name", name="uq_jobs_namespace_name"),
    Index("ix_jobs_name", "name"),
)

runs = Table(
    "runs",
    metadata,
    Column("seq", Key, primary_key=True, autoincrement=False),
    Column("node_id", BigInteger, nullable=False),
    Column("run_id", String(36), nullable=False),
    Column("job_id", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", String(32)),
    Column("ended_at", String(32)),
    Column("parent_node_id", BigInteger),
    Column("recorded_at", String(32), nullable=False),
    Column("superseded_seq", BigInteger),
    Index("ix_runs_node", "node_id"),
    Index("ix_runs_run_id", "run_id"),
    Index("ix_runs_job", "job_id"),
)

edges = Table(
    "edges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("src", BigInteger, nullable=False),
    Column("dst", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("role", String(64)),
    Column("run_node_id", BigInteger),
    Column("seq_from", BigInteger, nullable=False),
    Column("seq_to", BigInteger),
    Index("ix_edges_dst", "dst", "src"),
    Index("ix_edges_src", "src", "dst"),
    Index("ix_edges_run", "run_node_id"),
)

annotations = Table(
    "annotations",
    metadata,
    Column("seq", Key, primary_key=True, autoincrement=False),
    Column("annotation_id", String(36), nullable=False, unique=True),
    Column("target_type", String(16), nullable=False),
    Column("target_id", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("superseded_seq", BigInteger),
    Index("ix_annotations_target", "target_type", "target_id"),
)

agents = Table(
    "agents",
    metadata,
    Column("seq", Key, primary_key=True, autoincrement=False),
    Column("agent_id", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("superseded_seq", BigInteger),
    Index("ix_agents_agent_id", "agent_id"),
)

# --- outside the log -----------------------------------------------------------------------

disclosures = Table(
    "disclosures",
    metadata,
    Column("commitment", String(96), primary_key=True),
    Column("value", Blob),
    Column("key_id", String(64)),
    Column("created_at", String(32), nullable=False),
    Column("erased_at", String(32)),
)
"""Confidential values behind the salted commitments records hold: the value and its salt,
sealed together under the store's secrets key. Not part of the log, so a value
can be erased and the log still verifies."""

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("digest", Blob, nullable=False),
)
"""Keys that remote writers send with each record, so a retried delivery returns the
record already appended instead of appending it twice."""

# --- server access control (outside the log) -------------------------------------------------

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", Text, nullable=False),
    Column("role", String(16), nullable=False),
    Column("namespaces", Text, nullable=False),
    Column("token_hash", Blob, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("expires_at", String(32)),
    Column("revoked_at", String(32)),
)
"""API tokens of the HTTP server: only the SHA-256 of each token is kept; ``namespaces``
is a JSON list (empty: every namespace)."""

access_log = Table(
    "access_log",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("time", String(32), nullable=False),
    Column("token_id", String(32)),
    Column("actor", Text, nullable=False),
    Column("role", String(16)),
    Column("method", String(16), nullable=False),
    Column("path", Text, nullable=False),
    Column("node", Text),
    Column("status", Integer, nullable=False),
    Column("client", String(64)),
    Column("hash", Blob, nullable=False),
    Index("ix_access_log_time", "time"),
    Index("ix_access_log_token", "token_id", "id"),
)
"""Every API read and write: who, what, when, with what result. Append-only (database
triggers refuse UPDATE and DELETE); each row's ``hash`` chains it to the one before."""

PROJECTIONS = (datasets, versions, jobs, runs, edges, annotations, agents)
"""Tables rebuilt by ``reindex``, in dependency order."""
