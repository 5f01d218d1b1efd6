"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('facets',
    sa.Column('owner_kind', sa.String(length=16), nullable=False),
    sa.Column('owner_key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('owner_kind', 'owner_key', 'name')
    )
    op.create_table('lineage_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_hash', sa.String(length=64), nullable=False),
    sa.Column('event_kind', sa.String(length=16), nullable=False),
    sa.Column('event_type', sa.String(length=16), nullable=True),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('run_uuid', sa.String(length=36), nullable=True),
    sa.Column('job_namespace', sa.String(length=1024), nullable=True),
    sa.Column('job_name', sa.String(length=1024), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_hash')
    )
    with op.batch_alter_table('lineage_events', schema=None) as batch_op:
        batch_op.create_index('ix_lineage_events_event_time', ['event_time'], unique=False)
        batch_op.create_index('ix_lineage_events_received_at', ['received_at'], unique=False)
        batch_op.create_index('ix_lineage_events_run', ['run_uuid'], unique=False)

    op.create_table('namespaces',
    sa.Column('name', sa.String(length=1024), nullable=False),
    sa.Column('owner_name', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('sources',
    sa.Column('name', sa.String(length=1024), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('connection_url', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('tags',
    sa.Column('name', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('datasets',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('namespace', sa.String(length=1024), nullable=False),
    sa.Column('name', sa.String(length=1024), nullable=False),
    sa.Column('source_name', sa.String(length=1024), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('current_version', sa.String(length=36), nullable=True),
    sa.Column('current_version_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_modified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_lifecycle_state', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['namespace'], ['namespaces.name'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('namespace', 'name', name='uq_datasets_namespace_name')
    )
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('namespace', sa.String(length=1024), nullable=False),
    sa.Column('name', sa.String(length=1024), nullable=False),
    sa.Column('simple_name', sa.String(length=1024), nullable=False),
    sa.Column('parent_job_name', sa.String(length=1024), nullable=True),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('current_version', sa.String(length=36), nullable=True),
    sa.Column('latest_run_uuid', sa.String(length=36), nullable=True),
    sa.Column('latest_run_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['namespace'], ['namespaces.name'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('namespace', 'name', name='uq_jobs_namespace_name')
    )
    op.create_table('dataset_fields',
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=1024), nullable=False),
    sa.Column('type', sa.String(length=256), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.PrimaryKeyConstraint('dataset_id', 'name')
    )
    op.create_table('dataset_tags',
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=1024), nullable=False),
    sa.Column('tag', sa.String(length=256), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.ForeignKeyConstraint(['tag'], ['tags.name'], ),
    sa.PrimaryKeyConstraint('dataset_id', 'field', 'tag')
    )
    op.create_table('dataset_versions',
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('run_uuid', sa.String(length=36), nullable=True),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('lifecycle_state', sa.String(length=32), nullable=True),
    sa.Column('event_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.PrimaryKeyConstraint('uuid')
    )
    with op.batch_alter_table('dataset_versions', schema=None) as batch_op:
        batch_op.create_index('ix_dataset_versions_dataset', ['dataset_id', 'event_time'], unique=False)
        batch_op.create_index('ix_dataset_versions_run', ['run_uuid'], unique=False)

    op.create_table('field_lineage',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('output_dataset_id', sa.Integer(), nullable=False),
    sa.Column('output_field', sa.String(length=1024), nullable=False),
    sa.Column('input_dataset_id', sa.Integer(), nullable=False),
    sa.Column('input_field', sa.String(length=1024), nullable=False),
    sa.Column('transformation_type', sa.String(length=16), nullable=True),
    sa.Column('transformation_subtype', sa.String(length=32), nullable=True),
    sa.Column('transformation_description', sa.Text(), nullable=True),
    sa.Column('masking', sa.Boolean(), nullable=False),
    sa.Column('dataset_version_uuid', sa.String(length=36), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['input_dataset_id'], ['datasets.id'], ),
    sa.ForeignKeyConstraint(['output_dataset_id'], ['datasets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('field_lineage', schema=None) as batch_op:
        batch_op.create_index('ix_field_lineage_input', ['input_dataset_id', 'input_field'], unique=False)
        batch_op.create_index('ix_field_lineage_output', ['output_dataset_id', 'output_field'], unique=False)

    op.create_table('job_io',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ),
    sa.PrimaryKeyConstraint('job_id', 'dataset_id', 'direction')
    )
    with op.batch_alter_table('job_io', schema=None) as batch_op:
        batch_op.create_index('ix_job_io_dataset', ['dataset_id', 'direction'], unique=False)

    op.create_table('job_versions',
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.Text(), nullable=True),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('outputs', sa.JSON(), nullable=False),
    sa.Column('latest_run_uuid', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ),
    sa.PrimaryKeyConstraint('uuid')
    )
    with op.batch_alter_table('job_versions', schema=None) as batch_op:
        batch_op.create_index('ix_job_versions_job', ['job_id'], unique=False)

    op.create_table('run_io',
    sa.Column('run_uuid', sa.String(length=36), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.String(length=6), nullable=False),
    sa.Column('dataset_version_uuid', sa.String(length=36), nullable=True),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.PrimaryKeyConstraint('run_uuid', 'dataset_id', 'direction')
    )
    with op.batch_alter_table('run_io', schema=None) as batch_op:
        batch_op.create_index('ix_run_io_dataset', ['dataset_id'], unique=False)

    op.create_table('runs',
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('job_version_uuid', sa.String(length=36), nullable=True),
    sa.Column('parent_run_uuid', sa.String(length=36), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_rank', sa.Integer(), nullable=False),
    sa.Column('state_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('nominal_start_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('nominal_end_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], ),
    sa.PrimaryKeyConstraint('uuid')
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_job_created', ['job_id', 'created_at'], unique=False)
        batch_op.create_index('ix_runs_parent', ['parent_run_uuid'], unique=False)
        batch_op.create_index('ix_runs_state_updated', ['state', 'updated_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_state_updated')
        batch_op.drop_index('ix_runs_parent')
        batch_op.drop_index('ix_runs_job_created')

    op.drop_table('runs')
    with op.batch_alter_table('run_io', schema=None) as batch_op:
        batch_op.drop_index('ix_run_io_dataset')

    op.drop_table('run_io')
    with op.batch_alter_table('job_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_job_versions_job')

    op.drop_table('job_versions')
    with op.batch_alter_table('job_io', schema=None) as batch_op:
        batch_op.drop_index('ix_job_io_dataset')

    op.drop_table('job_io')
    with op.batch_alter_table('field_lineage', schema=None) as batch_op:
        batch_op.drop_index('ix_field_lineage_output')
        batch_op.drop_index('ix_field_lineage_input')

    op.drop_table('field_lineage')
    with op.batch_alter_table('dataset_versions', schema=None) as batch_op:
        batch_op.drop_index('ix_dataset_versions_run')
        batch_op.drop_index('ix_dataset_versions_dataset')

    op.drop_table('dataset_versions')
    op.drop_table('dataset_tags')
    op.drop_table('dataset_fields')
    op.drop_table('jobs')
    op.drop_table('datasets')
    op.drop_table('tags')
    op.drop_table('sources')
    op.drop_table('namespaces')
    with op.batch_alter_table('lineage_events', schema=None) as batch_op:
        batch_op.drop_index('ix_lineage_events_run')
        batch_op.drop_index('ix_lineage_events_received_at')
        batch_op.drop_index('ix_lineage_events_event_time')

    op.drop_table('lineage_events')
    op.drop_table('facets')
