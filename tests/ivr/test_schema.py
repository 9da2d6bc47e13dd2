"""The migrations build exactly the schema the models describe, on both engines, and can be
undone."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ivr import models, schema


def test_migrations_match_the_models(database_url):
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": schema.include_name}
        )
        differences = compare_metadata(context, models.Base.metadata)
    engine.dispose()
    assert differences == []


def test_call_events_are_append_only(db, clock):
    import pytest

    from ivr import events

    with db.transaction() as session:
        event = events.record(session, "test.kind", at=clock.now(), note="first")
    with pytest.raises(ValueError, match="append-only"):
        with db.transaction() as session:
            stored = session.get(models.CallEvent, event.id)
            stored.data = {"note": "rewritten"}
    with pytest.raises(ValueError, match="append-only"):
        with db.transaction() as session:
            session.delete(session.get(models.CallEvent, event.id))
    with db.transaction() as session:
        assert session.get(models.CallEvent, event.id).data == {"note": "first"}
