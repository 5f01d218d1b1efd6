"""event ledger: every stored event in a hash chain, in arrival order (lineage_audit.service.ledger)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from lineage_audit.service.ledger import GENESIS, appended_at_text, entry_hash

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

_CHUNK = 1000


def upgrade() -> None:
    op.create_table('event_ledger',
    sa.Column('position', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('event_hash', sa.String(length=64), nullable=False),
    sa.Column('appended_at', sa.String(length=32), nullable=False),
    sa.Column('previous_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('position')
    )
    _seal_stored_events(op.get_bind())


def _seal_stored_events(bind) -> None:
    """The events stored before this revision, sealed in the order they arrived, at the time of the upgrade (when
    the ledger first vouches for them: it cannot vouch for what happened to them before)."""
    appended_at = appended_at_text(datetime.now(timezone.utc))
    position, previous, rows = 0, GENESIS, []
    for event_hash, payload in bind.execute(sa.text("SELECT event_hash, payload FROM lineage_events ORDER BY id")):
        position += 1
        previous_hash, previous = previous, entry_hash(position, previous, appended_at, payload)
        rows.append({"position": position, "event_hash": event_hash, "appended_at": appended_at,
                     "previous_hash": previous_hash, "entry_hash": previous})
        if len(rows) >= _CHUNK:
            _insert(bind, rows)
            rows = []
    _insert(bind, rows)


def _insert(bind, rows: list) -> None:
    if rows:
        bind.execute(sa.text("INSERT INTO event_ledger (position, event_hash, appended_at, previous_hash, entry_hash) "
                             "VALUES (:position, :event_hash, :appended_at, :previous_hash, :entry_hash)"), rows)


def downgrade() -> None:
    op.drop_table('event_ledger')
