"""Reading the service's own YAML policy files (the case policy, the report policy) so that a
mistake is reported with the file, the line and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def located(source: str, node: Any, what: str) -> str:
    """`source:line: what`, the line of the YAML `node` (just `source:` without one)."""
    line = getattr(getattr(node, "start_mark", None), "line", None)
    where = f"{source}:{line + 1}" if line is not None else source
    return f"{where}: {what}"


def read_mapping(
    path: Path | str, error: type[ValueError]
) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """The file's top-level mapping: its values, the YAML node of each key's value (for the
    line numbers of later messages) and the root node. Raises `error` naming the file."""
    source = str(path)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise error(f"{source}: {exc.strerror}") from None
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(located(source, root, "expected a mapping at the top"))
    return data, {key.value: value for key, value in root.value}, root
