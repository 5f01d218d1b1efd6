"""soft delete (is_hidden on namespaces, datasets and jobs), tags on jobs, the args of a run made by Marquez's
older write API

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

HIDDEN_TABLES = ('namespaces', 'datasets', 'jobs')


def upgrade() -> None:
    for table in HIDDEN_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('is_hidden', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('args', sa.JSON(), nullable=True))
    op.create_table('job_tags',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('tag', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ),
    sa.ForeignKeyConstraint(['tag'], ['tags.name'], ),
    sa.PrimaryKeyConstraint('job_id', 'tag')
    )


def downgrade() -> None:
    op.drop_table('job_tags')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('args')
    for table in reversed(HIDDEN_TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('is_hidden')
