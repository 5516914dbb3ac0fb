"""Confidential values kept outside the hashed log, behind salted commitments; idempotency
keys of remote appends.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disclosures",
        sa.Column("commitment", sa.String(96), primary_key=True),
        sa.Column("value", sa.LargeBinary),
        sa.Column("key_id", sa.String(64)),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("erased_at", sa.String(32)),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("digest", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("disclosures")
