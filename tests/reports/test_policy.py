"""The report policy file: the default loads; a broken one is refused naming the file, the
line and the field, at start-up (IVR_REPORT_POLICY) rather than in a report."""

from __future__ import annotations

import pytest

from ivr.reports.policy import DEFAULT_POLICY, ReportPolicyError, load
from ivr.settings import SettingsError, from_env

GOOD = """\
categories: [billing question, other]
service_level_seconds: 30
short_abandon_seconds: 3
repeat_days: 5
target_easing: 0.1
targets:
  service_level: 0.8
"""


def test_the_default_policy_lists_the_categories_and_the_rules():
    policy = load(DEFAULT_POLICY)
    assert "payment problem" in policy.categories and policy.categories[-1] == "other"
    assert (policy.service_level_seconds, policy.short_abandon_seconds, policy.repeat_days,
            policy.target_easing, policy.targets) == (20.0, 5.0, 7, 0.05, {})


def test_a_policy_of_ones_own_is_read_whole(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    policy = load(path)
    assert policy.categories == ("billing question", "other")
    assert (policy.service_level_seconds, policy.short_abandon_seconds, policy.repeat_days,
            policy.target_easing, policy.targets) == (30.0, 3.0, 5, 0.1, {"service_level": 0.8})


@pytest.mark.parametrize(("change", "line", "reason"), [
    (("categories: [billing question, other]", "categories: []"), 1, "'categories'"),
    (("categories: [billing question, other]", "categories: [other, other]"), 1, "twice"),
    (("service_level_seconds: 30", "service_level_seconds: soon"), 2, "must be a number"),
    (("short_abandon_seconds: 3", "short_abandon_seconds: -1"), 3, "at least 0"),
    (("target_easing: 0.1", "target_easing: 0.9"), 5, "between 0 and 0.5"),
    (("  service_level: 0.8", "  service_level: high"), 7, "KPI names to numbers"),
    (("  service_level: 0.8", "  service_levle: 0.8"), 7, "'service_levle' is not a KPI"),
])
def test_a_broken_policy_names_its_line_and_field(tmp_path, change, line, reason):
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD.replace(*change))
    with pytest.raises(ReportPolicyError) as error:
        load(path)
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert reason in str(error.value)


def test_a_file_that_is_not_yaml_or_not_there_is_refused(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("categories: [unclosed\n")
    with pytest.raises(ReportPolicyError, match="not valid YAML"):
        load(path)
    with pytest.raises(ReportPolicyError, match="No such file"):
        load(tmp_path / "missing.yaml")


def test_the_service_does_not_start_on_a_broken_policy(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD.replace("repeat_days: 5", "repeat_days: 0"))
    with pytest.raises(SettingsError) as error:
        from_env({"IVR_REPORT_POLICY": str(path), "IVR_VAR_DIR": str(tmp_path)})
    message = str(error.value)
    assert message.startswith("IVR_REPORT_POLICY: ") and "'repeat_days'" in message
    assert "\n" not in message
