"""text claims: when a sender took a text, so one its sender left unfinished is found; an
index for the sender's rounds

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ivr.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('text_messages', sa.Column('claimed_at', ivr.db.UTCDateTime(), nullable=True))
    # Texts a sender had taken before this release: their claim is as old as the upgrade.
    op.execute("UPDATE text_messages SET claimed_at = created_at WHERE status = 'sending'")
    op.create_index('ix_text_messages_status_send_after', 'text_messages',
                    ['status', 'send_after'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_text_messages_status_send_after', table_name='text_messages')
    with op.batch_alter_table('text_messages', schema=None) as batch_op:
        batch_op.drop_column('claimed_at')
