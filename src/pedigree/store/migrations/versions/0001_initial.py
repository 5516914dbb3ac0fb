"""The log, its Merkle nodes and signed heads, and the first projections.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # SQLite: the rowid itself

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "records",
        sa.Column("seq", KEY, primary_key=True, autoincrement=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("schema", sa.String(128), nullable=False),
        sa.Column("canonical", sa.LargeBinary, nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_records_time", "records", ["time"])
    op.create_index("ix_records_schema", "records", ["schema", "seq"])
    op.create_table(
        "merkle_nodes",
        sa.Column("level", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "ledger_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("frontier", sa.LargeBinary, nullable=False),
        sa.Column("last_time", sa.String(32), nullable=False),
        sa.Column("head", sa.Text, nullable=False),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("signed", sa.Text, nullable=False),
    )
    op.create_index("ix_checkpoints_size", "checkpoints", ["size"])

    op.create_table(
        "datasets",
        sa.Column("id", KEY, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.UniqueConstraint("namespace", "name", name="uq_datasets_namespace_name"),
    )
    op.create_index("ix_datasets_name", "datasets", ["name"])
    op.create_table(
        "versions",
        sa.Column("id", KEY, primary_key=True, autoincrement=False),
        sa.Column("dataset_id", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("fingerprint", sa.Text),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.UniqueConstraint("dataset_id", "version", name="uq_versions_dataset_version"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", KEY, primary_key=True, autoincrement=False),
        sa.Column("namespace", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.UniqueConstraint("namespace", "name", name="uq_jobs_namespace_name"),
    )
    op.create_index("ix_jobs_name", "jobs", ["name"])
    op.create_table(
        "runs",
        sa.Column("seq", KEY, primary_key=True, autoincrement=False),
        sa.Column("node_id", sa.BigInteger, nullable=False),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("job_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.String(32)),
        sa.Column("ended_at", sa.String(32)),
        sa.Column("parent_node_id", sa.BigInteger),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("superseded_seq", sa.BigInteger),
    )
    op.create_index("ix_runs_node", "runs", ["node_id"])
    op.create_index("ix_runs_run_id", "runs", ["run_id"])
    op.create_index("ix_runs_job", "runs", ["job_id"])
    op.create_table(
        "edges",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("src", sa.BigInteger, nullable=False),
        sa.Column("dst", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(64)),
        sa.Column("run_node_id", sa.BigInteger),
        sa.Column("seq_from", sa.BigInteger, nullable=False),
        sa.Column("seq_to", sa.BigInteger),
    )
    op.create_index("ix_edges_dst", "edges", ["dst", "src"])
    op.create_index("ix_edges_src", "edges", ["src", "dst"])
    op.create_index("ix_edges_run", "edges", ["run_node_id"])
    op.create_table(
        "annotations",
        sa.Column("seq", KEY, primary_key=True, autoincrement=False),
        sa.Column("annotation_id", sa.String(36), nullable=False, unique=True),
        sa.Column("target_type", sa.String(16), nullable=False),
        sa.Column("target_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("superseded_seq", sa.BigInteger),
    )
    op.create_index("ix_annotations_target", "annotations", ["target_type", "target_id"])
    op.create_table(
        "agents",
        sa.Column("seq", KEY, primary_key=True, autoincrement=False),
        sa.Column("agent_id", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("superseded_seq", sa.BigInteger),
    )
    op.create_index("ix_agents_agent_id", "agents", ["agent_id"])


def downgrade() -> None:
    for table in (
        "agents",
        "annotations",
        "edges",
        "runs",
        "jobs",
        "versions",
        "datasets",
        "checkpoints",
        "ledger_state",
        "merkle_nodes",
        "records",
        "meta",
    ):
        op.drop_table(table)
