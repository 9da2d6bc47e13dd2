"""Skills are made on first use; two first callers for a new skill at once (in two web
processes) get the same skill, not an error."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from ivr.routing.models import Skill
from ivr.routing.queue import ensure_skill


def test_a_skill_made_at_the_same_time_by_two_transactions_is_made_once(db):
    first = db.sessions()
    made_first = ensure_skill(first, "languages")
    found: dict[str, int] = {}

    def second() -> None:
        with db.transaction() as session:  # waits for the first transaction's lock or row
            found["id"] = ensure_skill(session, "languages").id

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1)  # the second is held up by the first, still open
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert found["id"] == made_first.id
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(Skill.name == "languages")) == 1
