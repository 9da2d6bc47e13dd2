"""live calls and callback attempts by reservation: reconciliation looks for the calls not
over each minute (a few among all ever made), and each callback leg's webhook finds its
attempt by the reservation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As ivr.calls.models.LIVE_CALL was when this revision was written.
LIVE_CALL = "status IN ('queued', 'initiated', 'ringing', 'in-progress')"


def upgrade() -> None:
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index('ix_calls_live', ['id'], unique=False,
                              sqlite_where=sa.text(LIVE_CALL),
                              postgresql_where=sa.text(LIVE_CALL))
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_attempts_reservation_id'),
                              ['reservation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_attempts_reservation_id'))
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_live', sqlite_where=sa.text(LIVE_CALL),
                            postgresql_where=sa.text(LIVE_CALL))
