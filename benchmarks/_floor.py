"""The floor of a webhook on this stack: the least any database-backed webhook of the service
could do, served exactly as `ivr serve` serves the service (`ivr.webserver.WebServer`, its
defaults), so that the service's share of the bare ceiling can be read against what the stack
itself leaves (`python -m benchmarks._floor PORT WORKERS STATEMENTS [DATABASE_URL]`).

Every POST is checked as the service checks it (`require_signature`: the form parsed, one
HMAC), answers a TwiML menu built with twilio's builders, and, unless STATEMENTS is 0, runs
one transaction on the database (an `ivr.db.Database`'s engine and writer's turn: the same
pragmas, BEGIN IMMEDIATE and one writer at a time on SQLite, the same pool and connection
settings on PostgreSQL) of SQLAlchemy Core statements,
no ORM: the call read by its sid, then written (inserted the first time, its path updated
after), one event inserted (a menu step's three statements), and STATEMENTS - 3 more reads of
the call. The service's own webhooks do more per request (about nine statements through the
ORM, the call-event log, the rules of the call), so the floor bounds what any rewrite of them
could reach on the same machine. Its tables are made before the workers start."""

from __future__ import annotations

import os
import sys

from flask import Flask, Response, request
from sqlalchemy import JSON, Column, Integer, MetaData, String, Table, insert, select, update

from benchmarks._bare import add_health, fixed_twiml
from ivr.db import Database, make_engine
from ivr.settings import SIM_AUTH_TOKEN
from ivr.voice.signature import require_signature

# The smallest transaction a menu step needs: read the call, write its path, log the step.
MENU_STEP_STATEMENTS = 3
METADATA = MetaData()
CALLS = Table(
    "bench_floor_calls", METADATA,
    Column("id", Integer, primary_key=True),
    Column("sid", String(64), unique=True, nullable=False),
    Column("node", String(64)),
    Column("path", JSON, nullable=False),
)
EVENTS = Table(
    "bench_floor_events", METADATA,
    Column("id", Integer, primary_key=True),
    Column("call_id", Integer, nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("data", JSON, nullable=False),
)


def create_floor_tables(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        METADATA.create_all(engine)
    finally:
        engine.dispose()


class Steps:
    """The webhook's database work: `statements` Core statements in one transaction, on
    tables `create_floor_tables` made."""

    def __init__(self, database_url: str, statements: int) -> None:
        if statements < MENU_STEP_STATEMENTS:
            raise ValueError(f"a transaction of the floor runs at least "
                             f"{MENU_STEP_STATEMENTS} statements, not {statements}")
        self.db = Database(database_url)
        self.extra_reads = statements - MENU_STEP_STATEMENTS

    def run(self, sid: str, node: str) -> None:
        with self.db.writer, self.db.engine.begin() as connection:
            found = connection.execute(
                select(CALLS.c.id, CALLS.c.path).where(CALLS.c.sid == sid)).first()
            if found is None:
                call_id = connection.execute(
                    insert(CALLS).values(sid=sid, node=node, path=[node])
                ).inserted_primary_key[0]
            else:
                call_id = found.id
                connection.execute(update(CALLS).where(CALLS.c.id == call_id)
                                   .values(node=node, path=[*found.path, node]))
            connection.execute(insert(EVENTS).values(call_id=call_id, kind="ivr.node",
                                                     data={"node": node}))
            for _ in range(self.extra_reads):
                connection.execute(select(CALLS.c.id, CALLS.c.path)
                                   .where(CALLS.c.id == call_id)).first()


def create_floor_app(*, public_url: str, statements: int, database_url: str = "") -> Flask:
    app = Flask(__name__)
    steps = Steps(database_url, statements) if statements else None

    @app.post("/<path:path>")
    def webhook(path: str) -> Response:
        require_signature(request, auth_token=SIM_AUTH_TOKEN, public_url=public_url)
        if steps is not None:
            steps.run(request.form.get("CallSid", ""), path.rsplit("/", 1)[-1][:64])
        # Built for each request, as the service builds its answers.
        return Response(fixed_twiml(public_url), mimetype="text/xml")

    add_health(app)
    return app


def main() -> None:
    from ivr.webserver import WebServer

    port, workers, statements = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    database_url = sys.argv[4] if len(sys.argv) > 4 else ""
    public_url = os.environ.get("IVR_PUBLIC_URL", f"http://127.0.0.1:{port}")
    if statements:
        create_floor_tables(database_url)  # before the fork, not by racing workers

    def build() -> Flask:
        return create_floor_app(public_url=public_url, statements=statements,
                                database_url=database_url)

    WebServer(build, host="127.0.0.1", port=port, workers=workers).run()


if __name__ == "__main__":
    main()
