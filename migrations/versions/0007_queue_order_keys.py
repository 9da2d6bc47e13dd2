"""queue order keys: the router's order without the clock, and the indexes it walks

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default aging (RoutingPolicy.aging_per_minute); the dispatcher re-keys the waiting
# entries with the service's own policy when it starts.
DEFAULT_AGING = 0.5


def upgrade() -> None:
    op.add_column('queue_entries',
                  sa.Column('order_key', sa.Float(), server_default='0', nullable=False))
    op.execute(f"UPDATE queue_entries SET order_key = {DEFAULT_AGING} * entered_epoch / 60.0"
               " - priority")
    op.create_index('ix_queue_entries_status_group_order', 'queue_entries',
                    ['status', 'skills_key', 'order_key', 'entered_epoch', 'id'], unique=False)
    op.create_index('ix_agents_state', 'agents', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_agents_state', table_name='agents')
    op.drop_index('ix_queue_entries_status_group_order', table_name='queue_entries')
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.drop_column('order_key')
