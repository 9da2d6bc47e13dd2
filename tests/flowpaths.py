"""Ways through the default flow, and small flows written for a test."""

from __future__ import annotations

from pathlib import Path

# Answers that walk callflows/support.yaml (always open) to each queue: English, no case
# number (silence at the case question), then the main menu.
TO_BILLING = ["1", None, "1"]
TO_TECHNICAL = ["1", None, "2", "1"]
TO_OUTAGE = ["1", None, "3"]
TO_PERSON = ["0"]


def write_flow(folder: Path, *, technical_level: int = 1) -> Path:
    """A one-menu flow whose technical queue asks for `technical_level`."""
    path = folder / "tiny.yaml"
    path.write_text(f"""\
flow: tiny
start: menu
languages: [en-US]
agent: general_queue
nodes:
  menu:
    kind: menu
    prompt: "For technical support, press 1. For a person, press 0."
    options:
      - {{key: "1", words: [technical], next: tech_queue}}
  tech_queue:
    kind: queue
    skills: {{technical: {technical_level}}}
    priority: 1
  general_queue:
    kind: queue
    skills: {{general: 1}}
    priority: 1
""")
    return path
