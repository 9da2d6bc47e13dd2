"""Reading the service's TwiML in tests the way a carrier would: which verbs, which URLs."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Twiml:
    root: ET.Element

    @classmethod
    def of(cls, response: Any) -> Twiml:
        assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
        assert response.mimetype == "text/xml"
        return cls(ET.fromstring(response.get_data(as_text=True)))

    def verbs(self) -> list[str]:
        return [child.tag for child in self.root]

    def find(self, tag: str) -> ET.Element | None:
        return self.root.find(tag)

    def said(self) -> str:
        return " ".join(el.text or "" for el in self.root.iter("Say"))

    def gather_path(self) -> str:
        gather = self.find("Gather")
        assert gather is not None, self.verbs()
        return local(gather.get("action", ""))

    def redirect_path(self) -> str:
        redirect = self.find("Redirect")
        assert redirect is not None, self.verbs()
        return local(redirect.text or "")

    def enqueued(self) -> bool:
        return self.find("Enqueue") is not None

    def enqueue_action_path(self) -> str:
        enqueue = self.find("Enqueue")
        assert enqueue is not None, self.verbs()
        return local(enqueue.get("action", ""))


def local(url: str) -> str:
    """The path and query of an absolute URL, for posting with the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
