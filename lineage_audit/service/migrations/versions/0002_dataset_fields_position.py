"""dataset fields in schema order: index (dataset_id, position)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dataset_fields', schema=None) as batch_op:
        batch_op.create_index('ix_dataset_fields_position', ['dataset_id', 'position'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('dataset_fields', schema=None) as batch_op:
        batch_op.drop_index('ix_dataset_fields_position')
