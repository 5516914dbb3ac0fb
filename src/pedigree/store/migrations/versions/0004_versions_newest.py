"""An index on a dataset's versions in the order they were recorded: finding a dataset's
newest version (every OpenLineage event naming it does) reads one index entry instead of
every version the dataset has.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_versions_dataset", "versions", ["dataset_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_versions_dataset", table_name="versions")
