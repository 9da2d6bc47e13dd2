"""cases

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-23 02:37:37.503848
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ivr.db

revision: str = '0005'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('incidents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('declared_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('declared_by', sa.String(length=64), nullable=False),
    sa.Column('cleared_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('clear_message', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents'))
    )
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incidents_subject'), ['subject'], unique=False)
        batch_op.create_index('ux_incidents_active_subject', ['subject'], unique=True, sqlite_where=sa.text('cleared_at IS NULL'), postgresql_where=sa.text('cleared_at IS NULL'))

    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=6), nullable=False),
    sa.Column('caller_number', sa.String(length=32), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('impact', sa.String(length=32), nullable=False),
    sa.Column('urgency', sa.String(length=32), nullable=False),
    sa.Column('priority', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('owner_agent_id', sa.Integer(), nullable=True),
    sa.Column('owner_skill', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('created_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('first_response_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('resolved_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('closed_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=64), nullable=True),
    sa.Column('first_contact_resolution', sa.Boolean(), nullable=True),
    sa.CheckConstraint("status IN ('new', 'in-progress', 'waiting-on-customer', 'resolved', 'closed')", name=op.f('ck_cases_status')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_cases_contact_id_contacts')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_cases_incident_id_incidents')),
    sa.ForeignKeyConstraint(['owner_agent_id'], ['agents.id'], name=op.f('fk_cases_owner_agent_id_agents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('number', name=op.f('uq_cases_number'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_caller_number'), ['caller_number'], unique=False)
        batch_op.create_index('ix_cases_caller_status', ['caller_number', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_owner_agent_id'), ['owner_agent_id'], unique=False)

    op.create_table('incident_subscribers',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('notified_at', ivr.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_subscribers_incident_id_incidents')),
    sa.PrimaryKeyConstraint('incident_id', 'number', name=op.f('pk_incident_subscribers'))
    )
    op.create_table('case_calls',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('call_id', sa.Integer(), nullable=False),
    sa.Column('at', ivr.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['call_id'], ['calls.id'], name=op.f('fk_case_calls_call_id_calls')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_calls_case_id_cases')),
    sa.PrimaryKeyConstraint('case_id', 'call_id', name=op.f('pk_case_calls')),
    sa.UniqueConstraint('call_id', name=op.f('uq_case_calls_call_id'))
    )
    op.create_table('case_clocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('started_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('target_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('warn_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('remaining_seconds', sa.Double(), nullable=True),
    sa.Column('warned_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('breached_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('stopped_at', ivr.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('response', 'resolution', 'courtesy')", name=op.f('ck_case_clocks_kind')),
    sa.CheckConstraint("state IN ('running', 'paused', 'met', 'breached', 'stopped')", name=op.f('ck_case_clocks_state')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_clocks_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_clocks'))
    )
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_clocks_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_clocks_target_at'), ['target_at'], unique=False)

    op.create_table('case_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_notes_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_notes'))
    )
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_notes_case_id'), ['case_id'], unique=False)

    op.create_table('text_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('to_number', sa.String(length=32), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('send_after', ivr.db.UTCDateTime(), nullable=False),
    sa.Column('sent_at', ivr.db.UTCDateTime(), nullable=True),
    sa.Column('sid', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_text_messages_case_id_cases')),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_text_messages_incident_id_incidents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_text_messages'))
    )
    with op.batch_alter_table('text_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_text_messages_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_text_messages_send_after'), ['send_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_text_messages_to_number'), ['to_number'], unique=False)
    _callback_kinds(KINDS)


KINDS = ('keep-place', 'scheduled', 'follow-up', 'courtesy')


def _callback_kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_callbacks_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_callbacks_kind'), sa.text(f"kind IN {kinds}"))


def downgrade() -> None:
    _callback_kinds(('keep-place', 'scheduled', 'follow-up'))
    with op.batch_alter_table('text_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_text_messages_to_number'))
        batch_op.drop_index(batch_op.f('ix_text_messages_send_after'))
        batch_op.drop_index(batch_op.f('ix_text_messages_case_id'))

    op.drop_table('text_messages')
    with op.batch_alter_table('case_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_notes_case_id'))

    op.drop_table('case_notes')
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_clocks_target_at'))
        batch_op.drop_index(batch_op.f('ix_case_clocks_case_id'))

    op.drop_table('case_clocks')
    op.drop_table('case_calls')
    op.drop_table('incident_subscribers')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_owner_agent_id'))
        batch_op.drop_index(batch_op.f('ix_cases_created_at'))
        batch_op.drop_index('ix_cases_caller_status')
        batch_op.drop_index(batch_op.f('ix_cases_caller_number'))

    op.drop_table('cases')
    with op.batch_alter_table('incidents', schema=None) as batch_op:
        batch_op.drop_index('ux_incidents_active_subject', sqlite_where=sa.text('cleared_at IS NULL'), postgresql_where=sa.text('cleared_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_incidents_subject'))

    op.drop_table('incidents')
