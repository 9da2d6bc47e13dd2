"""A scored call: one scorecard filled in by one supervisor for one call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ivr.db import Base, UTCDateTime, json_type


class CallScore(Base):
    __tablename__ = "call_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    # The agent whose conversation was scored (the call's answering agent).
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    scorecard: Mapped[str] = mapped_column(String(64))
    # [{"key": "etiquette", "score": 4, "comment": "..."}], in the scorecard's order.
    items: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    total: Mapped[float] = mapped_column(Float)
    max_total: Mapped[float] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    scored_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    scored_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
