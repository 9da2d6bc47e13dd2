"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 01:09:59.881036
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ivr.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('endpoint', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('state_reason', sa.String(length=64), nullable=True),
    sa.Column('state_since', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('idle_since', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('wrapup_until', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('created_at', ivr.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("state IN ('offline', 'available', 'reserved', 'busy', 'wrap-up', 'not-ready')", name=op.f('ck_agents_state')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agents')),
    sa.UniqueConstraint('name', name=op.f('uq_agents_name'))
    )
    op.create_table('contacts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=True),
    sa.Column('vip', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', ivr.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contacts')),
    sa.UniqueConstraint('phone', name=op.f('uq_contacts_phone'))
    )
    op.create_table('scheduled_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scheduled_jobs'))
    )
    with op.batch_alter_table('scheduled_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scheduled_jobs_next_run_time'), ['next_run_time'], unique=False)

    op.create_table('skills',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skills')),
    sa.UniqueConstraint('name', name=op.f('uq_skills_name'))
    )
    op.create_table('agent_skills',
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.CheckConstraint('level BETWEEN 1 AND 5', name=op.f('ck_agent_skills_level')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_agent_skills_agent_id_agents')),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_agent_skills_skill_id_skills')),
    sa.PrimaryKeyConstraint('agent_id', 'skill_id', name=op.f('pk_agent_skills'))
    )
    op.create_table('calls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sid', sa.String(length=64), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('from_number', sa.String(length=32), nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=True),
    sa.Column('path', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('vars', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('started_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('answered_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('ended_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_calls_contact_id_contacts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calls')),
    sa.UniqueConstraint('sid', name=op.f('uq_calls_sid'))
    )
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calls_contact_id'), ['contact_id'], unique=False)
        batch_op.create_index('ix_calls_from_started', ['from_number', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_calls_started_at'), ['started_at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('api_token_hash', sa.String(length=64), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('created_at', ivr.db.UTCDateTime(), nullable=False),
    sa.CheckConstraint("role IN ('agent', 'supervisor', 'admin')", name=op.f('ck_users_role')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_users_agent_id_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('agent_id', name=op.f('uq_users_agent_id')),
    sa.UniqueConstraint('api_token_hash', name=op.f('uq_users_api_token_hash')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('call_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=True),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_call_events_agent_id_agents')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_events_call_id_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_events'))
    )
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_events_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_events_call_id'), ['call_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_events_kind'), ['kind'], unique=False)

    op.create_table('call_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_call_notes_agent_id_agents')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_call_notes_call_id_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_call_notes'))
    )
    with op.batch_alter_table('call_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_call_notes_call_id'), ['call_id'], unique=False)

    op.create_table('queue_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('queue_name', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('entered_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('entered_epoch', sa.Float(), nullable=False),
    sa.Column('skills_key', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=True),
    sa.Column('left_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('extra', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.CheckConstraint("status IN ('waiting', 'reserved', 'connected', 'abandoned', 'left', 'done')", name=op.f('ck_queue_entries_status')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_queue_entries_agent_id_agents')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_queue_entries_call_id_calls')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_queue_entries'))
    )
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_entries_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_queue_entries_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ix_queue_entries_status_entered', ['status', 'entered_at'], unique=False)
        batch_op.create_index('ix_queue_entries_status_group', ['status', 'skills_key', 'entered_epoch'], unique=False)

    op.create_table('queue_entry_skills',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('skill_id', sa.Integer(), nullable=False),
    sa.Column('min_level', sa.Integer(), nullable=False),
    sa.CheckConstraint('min_level BETWEEN 1 AND 5', name=op.f('ck_queue_entry_skills_min_level')),
    sa.ForeignKeyConstraint(['entry_id'], ['queue_entries.id'], name=op.f('fk_queue_entry_skills_entry_id_queue_entries')),
    sa.ForeignKeyConstraint(['skill_id'], ['skills.id'], name=op.f('fk_queue_entry_skills_skill_id_skills')),
    sa.PrimaryKeyConstraint('entry_id', 'skill_id', name=op.f('pk_queue_entry_skills'))
    )
    op.create_table('reservations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('agent_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('answered_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('ended_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('agent_call_sid', sa.String(length=64), nullable=True),
    sa.Column('result', sa.String(length=32), nullable=True),
    sa.CheckConstraint("status IN ('offered', 'connected', 'completed', 'missed', 'canceled')", name=op.f('ck_reservations_status')),
    sa.ForeignKeyConstraint(['agent_id'], ['agents.id'], name=op.f('fk_reservations_agent_id_agents')),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_reservations_call_id_calls')),
    sa.ForeignKeyConstraint(['entry_id'], ['queue_entries.id'], name=op.f('fk_reservations_entry_id_queue_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservations'))
    )
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reservations_call_id'), ['call_id'], unique=False)
        batch_op.create_index('ux_reservations_active_agent', ['agent_id'], unique=True, sqlite_where=sa.text("status IN ('offered', 'connected')"), postgresql_where=sa.text("status IN ('offered', 'connected')"))
        batch_op.create_index('ux_reservations_active_entry', ['entry_id'], unique=True, sqlite_where=sa.text("status IN ('offered', 'connected')"), postgresql_where=sa.text("status IN ('offered', 'connected')"))



def downgrade() -> None:
    with op.batch_alter_table('reservations', schema=None) as batch_op:
        batch_op.drop_index('ux_reservations_active_entry', sqlite_where=sa.text("status IN ('offered', 'connected')"), postgresql_where=sa.text("status IN ('offered', 'connected')"))
        batch_op.drop_index('ux_reservations_active_agent', sqlite_where=sa.text("status IN ('offered', 'connected')"), postgresql_where=sa.text("status IN ('offered', 'connected')"))
        batch_op.drop_index(batch_op.f('ix_reservations_call_id'))

    op.drop_table('reservations')
    op.drop_table('queue_entry_skills')
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_queue_entries_status_group')
        batch_op.drop_index('ix_queue_entries_status_entered')
        batch_op.drop_index(batch_op.f('ix_queue_entries_call_id'))
        batch_op.drop_index(batch_op.f('ix_queue_entries_agent_id'))

    op.drop_table('queue_entries')
    with op.batch_alter_table('call_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_notes_call_id'))

    op.drop_table('call_notes')
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_events_kind'))
        batch_op.drop_index(batch_op.f('ix_call_events_call_id'))
        batch_op.drop_index(batch_op.f('ix_call_events_at'))
        batch_op.drop_index(batch_op.f('ix_call_events_agent_id'))

    op.drop_table('call_events')
    op.drop_table('users')
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calls_started_at'))
        batch_op.drop_index(batch_op.f('ix_calls_outcome'))
        batch_op.drop_index('ix_calls_from_started')
        batch_op.drop_index(batch_op.f('ix_calls_contact_id'))

    op.drop_table('calls')
    op.drop_table('agent_skills')
    op.drop_table('skills')
    with op.batch_alter_table('scheduled_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scheduled_jobs_next_run_time'))

    op.drop_table('scheduled_jobs')
    op.drop_table('contacts')
    op.drop_table('agents')
