import re
from datetime import time
from pathlib import Path

import pytest

from callback.policy import END_OF_DAY
from ivr.settings import PROJECT_ROOT, VARIABLES, SettingsError, callback_policy, from_env


def test_defaults_make_an_embedded_service(tmp_path: Path) -> None:
    settings = from_env({"IVR_VAR_DIR": str(tmp_path)})
    assert settings.telephony == "sim"
    assert settings.database_url == f"sqlite:///{tmp_path / 'ivr.db'}"
    assert settings.public_url == "http://127.0.0.1:5000"
    assert settings.sim_url == "http://127.0.0.1:5000/sim"
    assert settings.flow.name == "support.yaml"


def test_postgresql_url_uses_the_psycopg_driver() -> None:
    settings = from_env({"IVR_DATABASE_URL": "postgresql://u@db:5432/ivr"})
    assert settings.database_url == "postgresql+psycopg://u@db:5432/ivr"


def test_public_url_trailing_slash_is_dropped_for_signing() -> None:
    settings = from_env({"IVR_PUBLIC_URL": "https://ivr.example.com/"})
    assert settings.public_url == "https://ivr.example.com"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"IVR_TELEPHONY": "pstn"}, "IVR_TELEPHONY"),
        ({"IVR_TELEPHONY": "twilio"}, "IVR_TWILIO_ACCOUNT_SID"),
        (
            {"IVR_TELEPHONY": "twilio", "IVR_TWILIO_ACCOUNT_SID": "AC" + "1" * 32},
            "IVR_TWILIO_AUTH_TOKEN",
        ),
        ({"IVR_TWILIO_ACCOUNT_SID": "12345"}, "IVR_TWILIO_ACCOUNT_SID"),
        ({"IVR_PUBLIC_URL": "ivr.example.com"}, "IVR_PUBLIC_URL"),
        ({"IVR_FLOW": "/nowhere/flow.yaml"}, "IVR_FLOW"),
        ({"IVR_DATABASE_URL": "mysql://x"}, "IVR_DATABASE_URL"),
        ({"IVR_SIM_SPEED": "fast"}, "IVR_SIM_SPEED"),
        ({"IVR_SIM_SPEED": "0"}, "IVR_SIM_SPEED"),
        ({"IVR_WAIT_ANNOUNCE_SECONDS": "1"}, "IVR_WAIT_ANNOUNCE_SECONDS"),
        ({"IVR_AGENT_ACCEPT_SECONDS": "2"}, "IVR_AGENT_ACCEPT_SECONDS"),
        ({"IVR_AGENT_ACCEPT_SECONDS": "soon"}, "IVR_AGENT_ACCEPT_SECONDS"),
        ({"IVR_BUSINESS_HOURS": "mon-fri 9-5pm"}, "IVR_BUSINESS_HOURS"),
        ({"IVR_TIMEZONE": "Mars/Olympus"}, "IVR_TIMEZONE"),
        ({"IVR_LOG_LEVEL": "verbose"}, "IVR_LOG_LEVEL"),
        ({"IVR_CUSTOMER_HOURS": "8am-9pm"}, "IVR_CUSTOMER_HOURS"),
        ({"IVR_CUSTOMER_HOURS": "21:00-08:00"}, "IVR_CUSTOMER_HOURS"),
        ({"IVR_CUSTOMER_HOURS": "24:00-24:00"}, "IVR_CUSTOMER_HOURS"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_line_naming_it(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError) as error:
        from_env(environ)
    message = str(error.value)
    assert named in message
    assert "\n" not in message


@pytest.mark.parametrize(("given", "level"), [("warning", "WARNING"), ("Debug", "DEBUG"),
                                               ("warn", "WARNING"), ("fatal", "CRITICAL")])
def test_the_log_level_is_read_in_any_case_and_by_its_aliases(given: str, level: str) -> None:
    assert from_env({"IVR_LOG_LEVEL": given}).log_level == level


def test_customer_hours_may_run_until_midnight() -> None:
    policy = callback_policy(from_env({"IVR_CUSTOMER_HOURS": "07:30-24:00"}))
    assert policy.customer_hours == (time(7, 30), END_OF_DAY)


def test_twilio_mode_never_uses_the_offline_carrier_credentials() -> None:
    with pytest.raises(SettingsError, match="IVR_TWILIO_ACCOUNT_SID"):
        from_env({"IVR_TELEPHONY": "twilio", "IVR_TWILIO_AUTH_TOKEN": "secret"})


def test_every_variable_is_in_the_readme_settings_table() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `IVR_")]
    named = {name for row in rows for name in re.findall(r"`(IVR_[A-Z_]+)`", row.split(" | ")[0])}
    assert set(VARIABLES) - named == set()
    assert named - set(VARIABLES) == set()
