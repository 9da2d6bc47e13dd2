"""Bad arguments to `ivr simulate` stop it before anything is touched, naming the option."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("args", "option", "words"),
    [
        (["--calls", "0"], "--calls", "x>=1"),
        (["--agents", "-2"], "--agents", "1<=x<=999"),
        (["--arrival-rate", "0"], "--arrival-rate", "x>0"),
        (["--handle-time", "soon"], "--handle-time", "not a valid float"),
        (["--patience", "-5"], "--patience", "x>0"),
        (["--skills", "billing:lots"], "--skills", "the weight must be a number"),
        (["--skills", "billing:0"], "--skills", "positive"),
        (["--skills", ","], "--skills", "name at least one skill"),
        (["--skills", "billing,sales"], "--skills", "no queue of the flow"),
        (["--seed", "x"], "--seed", "not a valid integer"),
    ],
)
def test_a_bad_argument_is_a_usage_error_naming_the_option(simulator, args, option, words):
    result = simulator(*args)
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}'" in result.output
    assert words in result.output


def test_no_service_at_the_url_is_a_clear_error(simulator):
    result = simulator("--calls", "1", url="http://127.0.0.1:9")
    assert result.exit_code == 1
    assert "cannot reach the service at http://127.0.0.1:9" in result.output
