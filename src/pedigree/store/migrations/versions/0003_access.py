"""Server access control: API tokens (stored hashed) and the append-only access log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SQLITE_GUARDS = [
    f"""
    CREATE TRIGGER access_log_no_{what.lower()} BEFORE {what} ON access_log
    BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END
    """
    for what in ("UPDATE", "DELETE")
]

_PG_GUARD = [
    """
    CREATE OR REPLACE FUNCTION pedigree_access_log_append_only() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'access_log is append-only';
    END
    $$
    """,
    """
    CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION pedigree_access_log_append_only()
    """,
    """
    CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION pedigree_access_log_append_only()
    """,
]


def upgrade() -> None:
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("namespaces", sa.Text, nullable=False),
        sa.Column("token_hash", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("expires_at", sa.String(32)),
        sa.Column("revoked_at", sa.String(32)),
    )
    op.create_table(
        "access_log",
        sa.Column("id", KEY, primary_key=True, autoincrement=True),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("token_id", sa.String(32)),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("role", sa.String(16)),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("node", sa.Text),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("client", sa.String(64)),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_access_log_time", "access_log", ["time"])
    op.create_index("ix_access_log_token", "access_log", ["token_id", "id"])
    for statement in _PG_GUARD if op.get_bind().dialect.name == "postgresql" else _SQLITE_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE access_log")
        op.execute("DROP FUNCTION IF EXISTS pedigree_access_log_append_only()")
    else:
        op.drop_table("access_log")
    op.drop_table("access_tokens")
