"""dataset versions: where a version comes from (a run's output, a DatasetEvent, or its first readers)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # every version stored before this revision was written by a run
    with op.batch_alter_table('dataset_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin', sa.String(length=8), nullable=False, server_default='RUN'))


def downgrade() -> None:
    with op.batch_alter_table('dataset_versions', schema=None) as batch_op:
        batch_op.drop_column('origin')
