"""The browser libraries from the npm registry, served by the service (never a CDN)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ivr.console.vendor import FILES, NODE_MODULES, vendored

FRONTEND = NODE_MODULES.parent


def test_the_lock_pins_what_package_json_asks_for():
    wanted = json.loads((FRONTEND / "package.json").read_text())["dependencies"]
    locked = json.loads((FRONTEND / "package-lock.json").read_text())["packages"]
    for name, version in wanted.items():
        assert locked[f"node_modules/{name}"]["version"] == version


def test_the_served_files_come_from_the_installed_packages(signed_in):
    sue = signed_in("sue")
    chart = sue.get("/console/vendor/chart.umd.min.js")
    assert chart.status_code == 200 and chart.mimetype == "text/javascript"
    assert chart.data == (NODE_MODULES / FILES["chart.umd.min.js"]).read_bytes()
    sdk = sue.get("/console/vendor/twilio.min.js")
    assert sdk.status_code == 200 and b"Twilio.Device" in sdk.data
    assert sue.get("/console/vendor/package.json").status_code == 404


def test_a_missing_install_says_how_to_make_it(tmp_path: Path):
    with pytest.raises(LookupError, match="make install"):
        vendored("chart.umd.min.js", root=tmp_path)
    with pytest.raises(LookupError, match="not a vendored file"):
        vendored("../../etc/passwd")
