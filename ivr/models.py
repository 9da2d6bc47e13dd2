"""Every table, imported in one place so that Alembic and `create_all` see the whole schema."""

from sqlalchemy import Column, Float, LargeBinary, Table, Unicode

from callback.models import (
    Callback,
    CallbackAttempt,
    DoNotCall,
    FollowUp,
    MissedCall,
    OutboundPacing,
)
from ivr.calls.models import Call, CallEvent, CallNote, CallWrapUp, Contact
from ivr.cases.models import (
    Case,
    CaseCall,
    CaseClock,
    CaseNote,
    Incident,
    IncidentSubscriber,
    TextMessage,
)
from ivr.db import Base
from ivr.routing.models import (
    Agent,
    AgentSkill,
    QueueEntry,
    QueueEntrySkill,
    Reservation,
    Skill,
)
from ivr.scoring.models import CallScore
from ivr.users.models import User
from recordings.models import Recording, RecordingAccess, TranscriptSegment

# APScheduler's job store (ivr.jobs), owned by our migrations so that the service's database
# user needs no CREATE rights at run time. The columns are APScheduler's own.
scheduled_jobs = Table(
    "scheduled_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

__all__ = [
    "Agent",
    "AgentSkill",
    "Base",
    "Call",
    "Callback",
    "Case",
    "CaseCall",
    "CaseClock",
    "CaseNote",
    "CallbackAttempt",
    "CallEvent",
    "CallNote",
    "CallScore",
    "CallWrapUp",
    "Contact",
    "DoNotCall",
    "FollowUp",
    "Incident",
    "IncidentSubscriber",
    "MissedCall",
    "OutboundPacing",
    "QueueEntry",
    "QueueEntrySkill",
    "Reservation",
    "Recording",
    "RecordingAccess",
    "Skill",
    "TextMessage",
    "TranscriptSegment",
    "User",
]
