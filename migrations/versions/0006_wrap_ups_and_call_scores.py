"""wrap-ups and call scores: the request category an agent gives a call, and scorecards

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 18:35:41.606737
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ivr.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('call_scores',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('scorecard', sa.String(length=64), nullable=False),
    sa.Column('items', ivr.db.json_type(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('max_total', sa.Float(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('scored_by', sa.Integer(), nullable=False),
    sa.Column('scored_at', ivr.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_call_scores_agent_id_agents')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_scores_call_id_calls')),
    sa.ForeignKeyConstraint(['scored_by'], ['users.id'], name=op.f('fk_call_scores_scored_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_scores'))
    )
    with op.batch_alter_table('call_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_scores_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_scores_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_scores_scored_at'), ['scored_at'], unique=False)

    op.create_table('call_wrapups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('resolved', sa.Boolean(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('at', ivr.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_call_wrapups_agent_id_agents')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_wrapups_call_id_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_wrapups')),
    sa.UniqueConstraint('call_id', 'agent_id', name='call_agent')
    )
    with op.batch_alter_table('call_wrapups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_wrapups_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_wrapups_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_wrapups_category'), ['category'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('call_wrapups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_wrapups_category'))
        batch_op.drop_index(batch_op.f('ix_call_wrapups_call_id'))
        batch_op.drop_index(batch_op.f('ix_call_wrapups_agent_id'))

    op.drop_table('call_wrapups')
    with op.batch_alter_table('call_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_scores_scored_at'))
        batch_op.drop_index(batch_op.f('ix_call_scores_call_id'))
        batch_op.drop_index(batch_op.f('ix_call_scores_agent_id'))

    op.drop_table('call_scores')
