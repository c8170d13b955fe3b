"""The shared spec files beside the checkout: JSON schema URL, example manifests, snapshot."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _shared_dir() -> Path:
    """The `shared/` folder beside the checkout (spec, examples, the registry snapshot); a git
    worktree nested one level deeper (e.g. wt/<name>/) finds the same folder further up."""
    for parent in ROOT.parents:
        if (parent / "shared" / "spec").is_dir():
            return parent / "shared"
    return ROOT.parent / "shared"


SHARED = _shared_dir()
EXAMPLES = sorted((SHARED / "spec" / "examples").glob("generic-server-json.example*.json"))
SNAPSHOT = SHARED / "data" / "official-registry-2025-12-18.json"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@functools.cache
def _snapshot_sorted() -> tuple[dict[str, Any], ...]:
    entries = load_json(SNAPSHOT)
    return tuple(sorted(entries, key=lambda e: (e["server"]["name"], e["server"]["version"])))


def snapshot(count: int | None = None) -> list[dict[str, Any]]:
    """The real registry snapshot, or its first whole servers holding at least `count` versions."""
    entries = list(_snapshot_sorted())
    if count is None or count >= len(entries):
        return entries
    last = entries[count - 1]["server"]["name"]
    return [e for e in entries if e["server"]["name"] <= last]
