"""callbacks and follow-ups

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 02:07:26.227090
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ivr.db

ENTRY_STATES = ('waiting', 'reserved', 'connected', 'abandoned', 'left', 'done', 'scheduled')

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('do_not_call',
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('added_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('number', name=op.f('pk_do_not_call'))
    )
    op.create_table('outbound_pacing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('next_at', ivr.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbound_pacing'))
    )
    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('due_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('escalate_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('escalated_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('breached_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('missed_count', sa.Integer(), nullable=False),
    sa.Column('last_missed_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('closed_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('owner_agent_id', sa.Integer(), nullable=True),
    sa.Column('skills', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'done')", name=op.f('ck_follow_ups_status')),
    sa.ForeignKeyConstraint(['owner_agent_id'], ['agents.id'], name=op.f('fk_follow_ups_owner_agent_id_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_number'), ['number'], unique=False)
        batch_op.create_index('ux_follow_ups_open_number', ['number'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('missed_calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('follow_up_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.CheckConstraint("kind IN ('abandoned', 'ivr-hangup', 'after-hours', 'voicemail', 'callback-failed')", name=op.f('ck_missed_calls_kind')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_missed_calls_call_id_calls')),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_missed_calls_follow_up_id_follow_ups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_missed_calls'))
    )
    with op.batch_alter_table('missed_calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_missed_calls_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_missed_calls_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_missed_calls_follow_up_id'), ['follow_up_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_missed_calls_number'), ['number'], unique=False)

    op.create_table('callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=True),
    sa.Column('follow_up_id', sa.Integer(), nullable=True),
    sa.Column('due_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('completed_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint("kind IN ('keep-place', 'scheduled', 'follow-up')", name=op.f('ck_callbacks_kind')),
    sa.CheckConstraint("status IN ('pending', 'scheduled', 'dialing', 'completed', 'failed', 'canceled')", name=op.f('ck_callbacks_status')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_callbacks_call_id_calls')),
    sa.ForeignKeyConstraint(['entry_id'], ['queue_entries.id'], name=op.f('fk_callbacks_entry_id_queue_entries')),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_callbacks_follow_up_id_follow_ups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callbacks_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_follow_up_id'), ['follow_up_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_number'), ['number'], unique=False)
        batch_op.create_index('ix_callbacks_status_due', ['status', 'due_at'], unique=False)

    op.create_table('callback_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('callback_id', sa.Integer(), nullable=False),
    sa.Column('reservation_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('agent_call_sid', sa.String(length=64), nullable=True),
    sa.Column('customer_call_sid', sa.String(length=64), nullable=True),
    sa.Column('answered_by', sa.String(length=24), nullable=True),
    sa.Column('started_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('ended_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('result', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_callback_attempts_agent_id_agents')),
    sa.ForeignKeyConstraint(['callback_id'], ['callbacks.id'], name=op.f('fk_callback_attempts_callback_id_callbacks')),
    sa.ForeignKeyConstraint(['reservation_id'], ['reservations.id'], name=op.f('fk_callback_attempts_reservation_id_reservations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callback_attempts'))
    )
    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_callback_attempts_agent_call_sid'), ['agent_call_sid'], unique=False)
        batch_op.create_index(batch_op.f('ix_callback_attempts_callback_id'), ['callback_id'], unique=False)

    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='call', nullable=False))
        batch_op.drop_constraint(op.f('ck_queue_entries_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_queue_entries_status'), sa.text(f"status IN {ENTRY_STATES}"))
        batch_op.create_check_constraint(op.f('ck_queue_entries_kind'), sa.text("kind IN ('call', 'callback')"))



def downgrade() -> None:
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_queue_entries_kind'), type_='check')
        batch_op.drop_constraint(op.f('ck_queue_entries_status'), type_='check')
        batch_op.create_check_constraint(op.f('ck_queue_entries_status'), sa.text(f"status IN {ENTRY_STATES[:-1]}"))
        batch_op.drop_column('kind')

    with op.batch_alter_table('callback_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_attempts_callback_id'))
        batch_op.drop_index(batch_op.f('ix_callback_attempts_agent_call_sid'))

    op.drop_table('callback_attempts')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_callbacks_status_due')
        batch_op.drop_index(batch_op.f('ix_callbacks_number'))
        batch_op.drop_index(batch_op.f('ix_callbacks_follow_up_id'))
        batch_op.drop_index(batch_op.f('ix_callbacks_call_id'))

    op.drop_table('callbacks')
    with op.batch_alter_table('missed_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_missed_calls_number'))
        batch_op.drop_index(batch_op.f('ix_missed_calls_follow_up_id'))
        batch_op.drop_index(batch_op.f('ix_missed_calls_call_id'))
        batch_op.drop_index(batch_op.f('ix_missed_calls_at'))

    op.drop_table('missed_calls')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index('ux_follow_ups_open_number', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index(batch_op.f('ix_follow_ups_number'))

    op.drop_table('follow_ups')
    op.drop_table('outbound_pacing')
    op.drop_table('do_not_call')
