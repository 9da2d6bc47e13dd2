"""The scorecards file: the default one, several scorecards in one file, and each kind of broken
file refused with the file, the line and the field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ivr.scoring.scorecards import DEFAULT_SCORECARDS, ScorecardError, load
from ivr.settings import Settings, SettingsError, from_env, validate

GOOD = """\
default: short
scorecards:
  - name: five principles
    criteria:
      - key: availability
        label: Availability
        description: Reached a person quickly.
  - name: short
    description: Two questions.
    criteria:
      - key: greeting
        label: Greeting
        description: Said who they are.
        min: 0
        max: 1
      - key: outcome
        label: Outcome
        description: Solved it.
        max: 10
        anchors: {1: nothing was solved, 10: solved for good}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scorecards.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def refusal(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ScorecardError) as raised:
        load(path)
    message = str(raised.value)
    assert message.startswith(str(path)), message
    assert "\n" not in message
    return message[len(str(path)):]


def test_the_default_file_scores_the_five_principles_from_1_to_5_with_0_for_resolution():
    cards = load()
    assert cards.source == str(DEFAULT_SCORECARDS)
    assert cards.default == "five principles" and cards.names == ("five principles",)
    card = cards.get("five principles")
    assert [c.key for c in card.criteria] == [
        "availability", "speed", "resolution", "etiquette", "engagement"]
    assert {c.key: (c.min, c.max) for c in card.criteria} == {
        "availability": (1, 5), "speed": (1, 5), "resolution": (0, 5), "etiquette": (1, 5),
        "engagement": (1, 5)}
    assert card.criterion("resolution").anchors == {
        0: "the caller's main question went unanswered"}
    assert all(c.label and c.description and "\n" not in c.description for c in card.criteria)
    assert card.max_total == 25


def test_a_file_holds_several_scorecards_and_names_the_default(tmp_path):
    cards = load(write(tmp_path, GOOD))
    assert cards.names == ("five principles", "short") and cards.default == "short"
    short = cards.get("short")
    assert short.description == "Two questions."
    assert [(c.key, c.min, c.max) for c in short.criteria] == [("greeting", 0, 1),
                                                               ("outcome", 1, 10)]
    assert short.criterion("outcome").anchors == {1: "nothing was solved", 10: "solved for good"}
    assert cards.get("five principles").criteria[0].max == 5  # 1 to 5 unless told
    assert cards.get("five principles").criteria[0].min == 1


def test_an_anchor_outside_the_range_is_refused_on_its_line(tmp_path):
    # outcome's min is 1: 0 is not one of its scores.
    text = GOOD.replace("{1: nothing was solved", "{0: nothing was solved")
    assert refusal(tmp_path, text) == (
        ":20: scorecards[1].criteria[1].anchors: 0 is not a score from 1 to 10")


def test_without_a_default_the_first_scorecard_is_the_default(tmp_path):
    cards = load(write(tmp_path, GOOD.replace("default: short\n", "")))
    assert cards.default == "five principles"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("scorecards: [\n  {name: x\n", ":3: not valid YAML: expected ',' or '}', but got"),
        ("- name: x\n", ":1: must be a mapping"),
        ("", ": the file is empty; it needs 'scorecards'"),
        ("default: x\n", ":1: scorecards: must be a list of scorecards"),
        ("scorecards: []\n", ":1: scorecards: must be a list of scorecards"),
        ("scorecard:\n  - name: x\n", ":1: unknown field 'scorecard'; use default, scorecards"),
        ("""\
         scorecards:
           - name: calls
             criteria:
               - key: speed
                 label: Speed
                 description: Quick.
                 max: five
         """, ":7: scorecards[0].criteria[0].max: must be a whole number"),
        ("""\
         scorecards:
           - name: calls
             criteria:
               - key: speed
                 label: Speed
                 description: Quick.
                 min: 3
                 max: 3
         """, ":8: scorecards[0].criteria[0].max: must be more than min (3)"),
        ("""\
         scorecards:
           - name: calls
             criteria:
               - key: speed
                 lable: Speed
                 description: Quick.
         """, ":5: scorecards[0].criteria[0]: unknown field 'lable'; use key, label, "
             "description, min, max, anchors"),
        ("""\
         scorecards:
           - name: calls
             criteria:
               - key: speed
                 description: Quick.
         """, ":4: scorecards[0].criteria[0].label: must be a non-empty string"),
        ("""\
         scorecards:
           - name: calls
             criteria:
               - {key: speed, label: Speed, description: Quick.}
               - {key: speed, label: Pace, description: Quick too.}
         """, ":5: scorecards[0].criteria[1].key: 'speed' is listed twice"),
        ("""\
         scorecards:
           - name: calls
             criteria:
               - {key: Speed, label: Speed, description: Quick.}
         """, ":4: scorecards[0].criteria[0].key: 'Speed' must be lower case letters, "
             "digits and _"),
        ("""\
         scorecards:
           - name: calls
             criteria:
               - key: speed
                 label: Speed
                 description: |
                   Quick.
                   And more.
         """, ":6: scorecards[0].criteria[0].description: must be one line"),
        ("""\
         scorecards:
           - name: calls
             criteria:
               - key: speed
                 label: Speed
                 description: Quick.
                 max: 1000
         """, ":7: scorecards[0].criteria[0].max: must be between 0 and 100"),
        ("""\
         scorecards:
           - name: calls
             criteria: {speed: 5}
         """, ":3: scorecards[0].criteria: must be a list of criteria"),
        ("""\
         scorecards:
           - {name: calls, criteria: [{key: a, label: A, description: A.}]}
           - {name: calls, criteria: [{key: b, label: B, description: B.}]}
         """, ":3: scorecards[1].name: 'calls' is listed twice"),
        ("""\
         default: long
         scorecards:
           - {name: calls, criteria: [{key: a, label: A, description: A.}]}
         """, ":1: default: 'long' is not one of the scorecards listed"),
    ],
    ids=["not-yaml", "a-list", "empty", "no-scorecards", "no-cards", "unknown-top",
         "max-not-a-number", "min-not-below-max", "unknown-field", "no-label",
         "key-twice", "key-shape", "description-lines", "max-too-high", "criteria-mapping",
         "name-twice", "unknown-default"],
)
def test_a_broken_file_is_refused_with_its_line_and_field(tmp_path, text, expected):
    message = refusal(tmp_path, text)
    assert message.startswith(expected), message


def test_a_missing_file_is_refused_naming_it(tmp_path):
    with pytest.raises(ScorecardError, match=r"nowhere\.yaml: No such file or directory"):
        load(tmp_path / "nowhere.yaml")


def test_the_setting_names_the_variable_the_file_and_the_line(tmp_path):
    broken = write(tmp_path, "scorecards:\n  - name: calls\n    criteria: []\n")
    with pytest.raises(SettingsError) as raised:
        from_env({"IVR_SCORECARDS": str(broken), "IVR_VAR_DIR": str(tmp_path)})
    assert str(raised.value) == (
        f"IVR_SCORECARDS: {broken}:3: scorecards[0].criteria: must be a list of criteria")
    good = write(tmp_path, GOOD)
    settings = validate(Settings(scorecards=good, var_dir=tmp_path))
    assert settings.scorecards == good
