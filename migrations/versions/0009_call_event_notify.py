"""call event notifications: on PostgreSQL every insert into call_events notifies the
service's processes (LISTEN/NOTIFY), so a live screen served by one web process sees the
events committed by another, or by `ivr worker`

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 10:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One notification per INSERT statement, delivered at commit, to the channel of this database
# and schema (ivr.eventrelay.CHANNEL_SQL says the same), with the inserting process's origin
# (the setting ivr.origin of its connections; none for other clients). PostgreSQL refuses a
# payload over 8000 bytes, and the insert with it: a longer one carries only the ids, which
# listeners read from the table, 500 a notification.
CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION ivr_call_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  channel text := 'ivr_events_' || md5(current_database() || '.' || current_schema());
  origin text := current_setting('ivr.origin', true);
  payload text;
  chunk bigint[];
BEGIN
  SELECT json_build_object('origin', origin, 'events', json_agg(json_build_object(
           'id', id, 'kind', kind, 'at', at, 'call_id', call_id, 'agent_id', agent_id,
           'data', data) ORDER BY id))::text
    INTO payload FROM new_events;
  IF octet_length(payload) <= 7900 THEN
    PERFORM pg_notify(channel, payload);
    RETURN NULL;
  END IF;
  FOR chunk IN
    SELECT array_agg(id ORDER BY id) FROM (
      SELECT id, (row_number() OVER (ORDER BY id) - 1) / 500 AS part FROM new_events
    ) numbered GROUP BY part ORDER BY part
  LOOP
    PERFORM pg_notify(channel, json_build_object('origin', origin, 'ids', chunk)::text);
  END LOOP;
  RETURN NULL;
END
$$
"""
CREATE_TRIGGER = """
CREATE TRIGGER call_events_notify AFTER INSERT ON call_events
REFERENCING NEW TABLE AS new_events
FOR EACH STATEMENT EXECUTE FUNCTION ivr_call_events_notify()
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the service is one process, its bus carries every event
    op.execute(CREATE_FUNCTION)
    op.execute(CREATE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS call_events_notify ON call_events")
    op.execute("DROP FUNCTION IF EXISTS ivr_call_events_notify()")
