"""Settings: read once from `IVR_*` environment variables, validated with messages that name
the variable. The defaults make `make run` work on a fresh machine: SQLite under `var/`, the
offline carrier, the default flow."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FLOW = PROJECT_ROOT / "callflows" / "support.yaml"
SIM_ACCOUNT_SID = "AC" + "0" * 31 + "1"
SIM_AUTH_TOKEN = "sim-auth-token-not-a-secret"


class SettingsError(ValueError):
    """A setting is missing or invalid. The message names the variable and fits on one line."""


def _default_var() -> Path:
    return Path(os.environ.get("IVR_VAR_DIR", PROJECT_ROOT / "var"))


@dataclass(frozen=True)
class Settings:
    database_url: str = ""
    telephony: str = "sim"
    twilio_account_sid: str = SIM_ACCOUNT_SID
    twilio_auth_token: str = SIM_AUTH_TOKEN
    # The browser softphone (Twilio Voice SDK): an API key and a TwiML app, all three or none.
    twilio_api_key: str = ""
    twilio_api_secret: str = ""
    twilio_twiml_app_sid: str = ""
    public_url: str = "http://127.0.0.1:5000"
    flow: Path = DEFAULT_FLOW
    support_number: str = "+15005550006"
    timezone: str = "UTC"
    business_hours: str = "mon-fri 08:00-18:00"
    holidays_country: str = ""
    closed_dates: tuple[str, ...] = ()
    secret_key: str = "dev-only-secret-change-me"
    var_dir: Path = field(default_factory=_default_var)
    sim_speed: float = 1.0
    sim_url: str = ""
    # The offline carrier runs in a process of its own at sim_url (`ivr serve --workers N`):
    # this process forwards its /sim there instead of keeping a carrier.
    sim_elsewhere: bool = False
    wait_announce_seconds: int = 30
    log_level: str = "INFO"  # the service's logs and gunicorn's (not the access log)
    scheduler: str = "embedded"
    aging_per_minute: float = 0.5
    skill_expansion_seconds: int = 60
    routing_strategy: str = "longest-idle"
    wrap_up_seconds: int = 30
    ring_timeout: int = 20
    # An agent on a phone number takes a call by pressing 1 within this many seconds.
    agent_accept_seconds: int = 8
    callback_attempts: int = 3
    callback_spacing_minutes: int = 10
    dial_rate: float = 1.0
    customer_hours: str = "08:00-21:00"
    followup_cutoff_minutes: int = 0
    followup_escalate_minutes: int = 60
    case_policy: Path = field(
        default_factory=lambda: PROJECT_ROOT / "ivr" / "cases" / "policy.yaml"
    )
    # Wrap-up categories, how the KPIs count and their targets (ivr/reports/policy.yaml).
    report_policy: Path = field(
        default_factory=lambda: PROJECT_ROOT / "ivr" / "reports" / "policy.yaml"
    )
    # The scorecards supervisors fill in when they score a call (ivr/scoring/scorecards.yaml).
    scorecards: Path = field(
        default_factory=lambda: PROJECT_ROOT / "ivr" / "scoring" / "scorecards.yaml"
    )
    # Recordings (see recordings/): where audio is kept, the speech model, retention.
    storage_url: str = ""  # empty: var/recordings; s3://bucket/prefix?endpoint_url=...
    vosk_model: str = ""  # a Vosk model folder; empty: an installed model package; none: off
    transcription_workers: int = 0  # 0: one per CPU
    recording_retention_days: int = 0  # 0: keep audio for ever
    recording_keep_transcripts: bool = True
    delete_carrier_recordings: bool = False
    recording_retry_seconds: float = 30.0  # first download retry; doubles each time

    @property
    def is_sim(self) -> bool:
        return self.telephony == "sim"

    @property
    def twilio_softphone_ready(self) -> bool:
        """The API key and TwiML app the Voice SDK's access tokens need are set."""
        return bool(self.twilio_api_key and self.twilio_api_secret and self.twilio_twiml_app_sid)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: object) -> Settings:
        return validate(replace(self, **changes))


# name of the environment variable -> (field, parser)
def _str(value: str) -> str:
    return value.strip()


def _csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _float(value: str) -> float:
    return float(value)


def _int(value: str) -> int:
    return int(value)


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(value)


_ENV: dict[str, tuple[str, object]] = {
    "IVR_DATABASE_URL": ("database_url", _str),
    "IVR_TELEPHONY": ("telephony", _str),
    "IVR_TWILIO_ACCOUNT_SID": ("twilio_account_sid", _str),
    "IVR_TWILIO_AUTH_TOKEN": ("twilio_auth_token", _str),
    "IVR_TWILIO_API_KEY": ("twilio_api_key", _str),
    "IVR_TWILIO_API_SECRET": ("twilio_api_secret", _str),
    "IVR_TWILIO_TWIML_APP_SID": ("twilio_twiml_app_sid", _str),
    "IVR_PUBLIC_URL": ("public_url", _str),
    "IVR_FLOW": ("flow", Path),
    "IVR_SUPPORT_NUMBER": ("support_number", _str),
    "IVR_TIMEZONE": ("timezone", _str),
    "IVR_BUSINESS_HOURS": ("business_hours", _str),
    "IVR_HOLIDAYS": ("holidays_country", _str),
    "IVR_CLOSED_DATES": ("closed_dates", _csv),
    "IVR_SECRET_KEY": ("secret_key", _str),
    "IVR_VAR_DIR": ("var_dir", Path),
    "IVR_SIM_SPEED": ("sim_speed", _float),
    "IVR_SIM_URL": ("sim_url", _str),
    "IVR_WAIT_ANNOUNCE_SECONDS": ("wait_announce_seconds", _int),
    "IVR_LOG_LEVEL": ("log_level", _str),
    "IVR_SCHEDULER": ("scheduler", _str),
    "IVR_AGING_PER_MINUTE": ("aging_per_minute", _float),
    "IVR_SKILL_EXPANSION_SECONDS": ("skill_expansion_seconds", _int),
    "IVR_ROUTING_STRATEGY": ("routing_strategy", _str),
    "IVR_WRAP_UP_SECONDS": ("wrap_up_seconds", _int),
    "IVR_RING_TIMEOUT": ("ring_timeout", _int),
    "IVR_AGENT_ACCEPT_SECONDS": ("agent_accept_seconds", _int),
    "IVR_CALLBACK_ATTEMPTS": ("callback_attempts", _int),
    "IVR_CALLBACK_SPACING_MINUTES": ("callback_spacing_minutes", _int),
    "IVR_DIAL_RATE": ("dial_rate", _float),
    "IVR_CUSTOMER_HOURS": ("customer_hours", _str),
    "IVR_FOLLOWUP_CUTOFF_MINUTES": ("followup_cutoff_minutes", _int),
    "IVR_FOLLOWUP_ESCALATE_MINUTES": ("followup_escalate_minutes", _int),
    "IVR_CASE_POLICY": ("case_policy", Path),
    "IVR_REPORT_POLICY": ("report_policy", Path),
    "IVR_SCORECARDS": ("scorecards", Path),
    "IVR_STORAGE_URL": ("storage_url", _str),
    "IVR_VOSK_MODEL": ("vosk_model", _str),
    "IVR_TRANSCRIPTION_WORKERS": ("transcription_workers", _int),
    "IVR_RECORDING_RETENTION_DAYS": ("recording_retention_days", _int),
    "IVR_RECORDING_KEEP_TRANSCRIPTS": ("recording_keep_transcripts", _bool),
    "IVR_DELETE_CARRIER_RECORDINGS": ("delete_carrier_recordings", _bool),
    "IVR_RECORDING_RETRY_SECONDS": ("recording_retry_seconds", _float),
}
_VAR_OF_FIELD = {name: var for var, (name, _) in _ENV.items()}
VARIABLES = tuple(_ENV)  # every environment variable the service reads


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    """Settings from `IVR_*` variables over the defaults; raises SettingsError naming the
    first variable that is unusable."""
    environ = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for var, (name, parse) in _ENV.items():
        raw = environ.get(var)
        if raw is None or raw == "":
            continue
        try:
            values[name] = parse(raw)  # type: ignore[operator]
        except ValueError:
            raise SettingsError(f"{var}: cannot read {raw!r}") from None
    telephony = str(values.get("telephony", "sim"))
    if telephony == "twilio":
        # The sim credentials must never be used against the real carrier.
        values.setdefault("twilio_account_sid", "")
        values.setdefault("twilio_auth_token", "")
    return validate(Settings(**values))  # type: ignore[arg-type]


def _fail(field_name: str, message: str) -> SettingsError:
    return SettingsError(f"{_VAR_OF_FIELD[field_name]}: {message}")


def validate(settings: Settings) -> Settings:
    """Check every setting; fill the derived defaults (database under var/, sim URL)."""
    if settings.telephony not in ("sim", "twilio"):
        raise _fail("telephony", f"must be 'sim' or 'twilio', not {settings.telephony!r}")
    if settings.telephony == "twilio":
        if not settings.twilio_account_sid:
            raise _fail("twilio_account_sid", "required when IVR_TELEPHONY=twilio")
        if not settings.twilio_auth_token:
            raise _fail("twilio_auth_token", "required when IVR_TELEPHONY=twilio")
    if not settings.twilio_account_sid.startswith("AC") or len(settings.twilio_account_sid) != 34:
        raise _fail("twilio_account_sid", "must be 'AC' followed by 32 characters")
    _check_softphone(settings)
    public = urlsplit(settings.public_url)
    if public.scheme not in ("http", "https") or not public.netloc:
        raise _fail("public_url", f"must be an http(s) URL, not {settings.public_url!r}")
    if not Path(settings.flow).is_file():
        raise _fail("flow", f"no flow file at {settings.flow}")
    if settings.scheduler not in ("embedded", "off"):
        raise _fail("scheduler", "must be 'embedded' (timers run in `ivr serve`) or 'off'")
    _check_routing(settings)
    _check_callbacks(settings)
    case_policy(settings)
    report_policy(settings)
    scorecards(settings)
    if settings.sim_speed <= 0:
        raise _fail("sim_speed", "must be a positive number")
    if settings.wait_announce_seconds < 5:
        raise _fail("wait_announce_seconds", "must be at least 5 seconds")
    log_level = _log_level(settings.log_level)
    database_url = settings.database_url or f"sqlite:///{Path(settings.var_dir) / 'ivr.db'}"
    if not database_url.startswith(("sqlite", "postgresql")):
        raise _fail("database_url", "must be a sqlite:/// or postgresql:// URL")
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    _check_calendar(settings)
    _check_recordings(settings)
    sim_url = settings.sim_url or settings.public_url.rstrip("/") + "/sim"
    return replace(
        settings,
        database_url=database_url,
        public_url=settings.public_url.rstrip("/"),
        sim_url=sim_url.rstrip("/"),
        log_level=log_level,
    )


def _log_level(text: str) -> str:
    """The name of a level Python's logging knows (its aliases WARN and FATAL too), as
    gunicorn reads it."""
    level = logging.getLevelNamesMapping().get(text.strip().upper(), logging.NOTSET)
    if level == logging.NOTSET:
        raise _fail("log_level", "must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return logging.getLevelName(level)


def _check_routing(settings: Settings) -> None:
    from ivr.routing.policy import STRATEGIES

    if settings.routing_strategy not in STRATEGIES:
        raise _fail("routing_strategy", f"must be one of {', '.join(STRATEGIES)}")
    if settings.aging_per_minute < 0:
        raise _fail("aging_per_minute", "must not be negative")
    if settings.skill_expansion_seconds < 0:
        raise _fail("skill_expansion_seconds", "must not be negative (0: never relax)")
    if settings.wrap_up_seconds < 0:
        raise _fail("wrap_up_seconds", "must not be negative")
    if not 5 <= settings.ring_timeout <= 120:
        raise _fail("ring_timeout", "must be between 5 and 120 seconds")
    if not 3 <= settings.agent_accept_seconds <= 60:
        raise _fail("agent_accept_seconds", "must be between 3 and 60 seconds")


def _check_softphone(settings: Settings) -> None:
    """The browser softphone's credentials: all three or none, each in Twilio's shape."""
    given = {
        "twilio_api_key": settings.twilio_api_key,
        "twilio_api_secret": settings.twilio_api_secret,
        "twilio_twiml_app_sid": settings.twilio_twiml_app_sid,
    }
    if not any(given.values()):
        return
    for name, value in given.items():
        if not value:
            raise _fail(name, "the softphone needs IVR_TWILIO_API_KEY, IVR_TWILIO_API_SECRET "
                              "and IVR_TWILIO_TWIML_APP_SID together; this one is missing")
    for name, prefix in (("twilio_api_key", "SK"), ("twilio_twiml_app_sid", "AP")):
        value = given[name]
        if not value.startswith(prefix) or len(value) != 34:
            raise _fail(name, f"must be {prefix!r} followed by 32 characters")


def _check_recordings(settings: Settings) -> None:
    from recordings.storage import StorageError, parse_storage_url
    from recordings.transcribe import ModelError, check_model_setting

    try:
        parse_storage_url(settings.storage_url)
    except StorageError as exc:
        raise _fail("storage_url", str(exc)) from None
    try:
        check_model_setting(settings.vosk_model)
    except ModelError as exc:
        raise _fail("vosk_model", str(exc)) from None
    if settings.transcription_workers < 0:
        raise _fail("transcription_workers", "must not be negative (0: one per CPU)")
    if settings.recording_retention_days < 0:
        raise _fail("recording_retention_days", "must not be negative (0: keep for ever)")
    if settings.recording_retry_seconds <= 0:
        raise _fail("recording_retry_seconds", "must be a positive number of seconds")


def _check_callbacks(settings: Settings) -> None:
    if not 1 <= settings.callback_attempts <= 10:
        raise _fail("callback_attempts", "must be between 1 and 10")
    if settings.callback_spacing_minutes < 1:
        raise _fail("callback_spacing_minutes", "must be at least 1 minute")
    if not 0 < settings.dial_rate <= 100:
        raise _fail("dial_rate", "must be a positive number of calls per second (at most 100)")
    if settings.followup_cutoff_minutes < 0 or settings.followup_escalate_minutes < 0:
        raise _fail("followup_cutoff_minutes", "minutes must not be negative")
    _customer_hours(settings.customer_hours)


def _customer_hours(text: str) -> tuple[time, time]:
    from callback.policy import END_OF_DAY

    try:
        start_text, end_text = (part.strip() for part in text.split("-"))
        start = time.fromisoformat(start_text)
        end = END_OF_DAY if end_text == "24:00" else time.fromisoformat(end_text)
    except ValueError:
        raise _fail("customer_hours", f"use HH:MM-HH:MM (24:00 for midnight), not {text!r}"
                    ) from None
    if start >= end:
        raise _fail("customer_hours", "the start must be before the end")
    return start, end


def callback_policy(settings: Settings):  # -> CallbackPolicy
    from callback.policy import CallbackPolicy

    return CallbackPolicy(
        max_attempts=settings.callback_attempts,
        attempt_spacing=timedelta(minutes=settings.callback_spacing_minutes),
        calls_per_second=settings.dial_rate,
        customer_hours=_customer_hours(settings.customer_hours),
        follow_up_cutoff=timedelta(minutes=settings.followup_cutoff_minutes),
        escalate_before=timedelta(minutes=settings.followup_escalate_minutes),
        ring_timeout=settings.ring_timeout,
    )


def case_policy(settings: Settings):  # -> CasePolicy
    from ivr.cases.policy import CasePolicyError, load

    try:
        return load(settings.case_policy)
    except CasePolicyError as exc:
        raise _fail("case_policy", str(exc)) from None


def report_policy(settings: Settings):  # -> ReportPolicy
    from ivr.reports.policy import ReportPolicyError, load

    try:
        return load(settings.report_policy)
    except ReportPolicyError as exc:
        raise _fail("report_policy", str(exc)) from None


def scorecards(settings: Settings):  # -> Scorecards
    from ivr.scoring.scorecards import ScorecardError, load

    try:
        return load(settings.scorecards)
    except ScorecardError as exc:
        raise _fail("scorecards", str(exc)) from None


def routing_policy(settings: Settings):  # -> RoutingPolicy
    from ivr.routing.policy import RoutingPolicy

    return RoutingPolicy(
        aging_per_minute=settings.aging_per_minute,
        expansion_seconds=settings.skill_expansion_seconds,
        strategy=settings.routing_strategy,
        wrap_up_seconds=settings.wrap_up_seconds,
        ring_timeout=settings.ring_timeout,
    )


def _check_calendar(settings: Settings) -> None:
    from ivr.calendar import CalendarError

    try:
        business_calendar(settings)
    except CalendarError as exc:
        raise SettingsError(f"IVR_BUSINESS_HOURS/IVR_TIMEZONE/IVR_HOLIDAYS: {exc}") from None


def business_calendar(settings: Settings):  # -> BusinessCalendar
    """The service's business calendar, built from the settings."""
    from ivr.calendar import BusinessCalendar

    return BusinessCalendar.from_spec(
        timezone=settings.timezone,
        hours=settings.business_hours,
        holidays_country=settings.holidays_country or None,
        closed=settings.closed_dates,
    )


def describe(settings: Settings) -> dict[str, str]:
    """Settings as `IVR_*` names and values, secrets masked: for logs and `ivr config`."""
    shown = {}
    for f in fields(settings):
        var = _VAR_OF_FIELD.get(f.name)
        if var is None:
            continue
        value = getattr(settings, f.name)
        if "token" in f.name or "secret" in f.name:
            value = "***"
        shown[var] = str(value)
    return shown
