"""dataset symlinks: the other names of a dataset, resolved when events arrive (as Marquez resolves them)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import json

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('dataset_symlinks',
    sa.Column('name', sa.String(length=1024), nullable=False),
    sa.Column('namespace', sa.String(length=1024), nullable=False),
    sa.Column('dataset_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dataset_id'], ['datasets.id'], ),
    sa.PrimaryKeyConstraint('name', 'namespace')
    )
    op.create_index('ix_dataset_symlinks_dataset', 'dataset_symlinks', ['dataset_id'], unique=False)
    _backfill(op.get_bind())


def _backfill(bind) -> None:
    """The symlinks facets stored before this revision: each name no dataset has goes to the earliest
    created dataset declaring it (what the stores answered until now)."""
    declared = bind.execute(sa.text(
        "SELECT d.id, d.created_at, f.value FROM facets f JOIN datasets d ON f.owner_key = CAST(d.id AS VARCHAR) "
        "WHERE f.owner_kind = 'dataset' AND f.name = 'symlinks' ORDER BY d.created_at, d.namespace, d.name"))
    own = {(ns, name) for ns, name in bind.execute(sa.text("SELECT namespace, name FROM datasets"))}
    rows, seen = [], set()
    for dataset_id, created_at, value in declared:
        facet = json.loads(value) if isinstance(value, str) else value
        identifiers = facet.get("identifiers") if isinstance(facet, dict) else None
        for identifier in identifiers if isinstance(identifiers, list) else ():
            if not isinstance(identifier, dict):
                continue
            key = (identifier.get("namespace"), identifier.get("name"))
            if not all(isinstance(part, str) for part in key) or key in own or key in seen:
                continue
            seen.add(key)
            rows.append({"namespace": key[0], "name": key[1], "dataset_id": dataset_id,
                         "type": identifier["type"][:64] if isinstance(identifier.get("type"), str) else None,
                         "created_at": created_at})
    if rows:
        bind.execute(sa.text("INSERT INTO dataset_symlinks (namespace, name, dataset_id, type, created_at) "
                             "VALUES (:namespace, :name, :dataset_id, :type, :created_at)"), rows)


def downgrade() -> None:
    op.drop_index('ix_dataset_symlinks_dataset', table_name='dataset_symlinks')
    op.drop_table('dataset_symlinks')
