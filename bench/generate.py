"""Vary the real registry snapshot into N realistic list entries (`{server, _meta}`).

Copies keep every real shape (packages, remotes, invalid entries, version histories); each
copy gets a distinct server name (`<name>-c<k>`), shifted timestamps, and remote URLs made
unique per name so that the one-URL-one-name rule holds. In the copies about 3% of versions
are deprecated and 1% deleted (the snapshot itself is all active), with `isLatest` moved the
way the official registry moves it. Entries are produced as a stream, each server's versions
together, so 660,000 versions never sit in memory at once.

    python bench/generate.py 66000 > /tmp/bench-66k.jsonl     # JSON lines, one entry each
"""

from __future__ import annotations

import copy
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from registry.versioning import Candidate, pick_latest  # noqa: E402 (pure module, no Django)

# MCP_INDEX_BENCH_SNAPSHOT: from a git worktree, ROOT.parent is not the checkout's parent.
SNAPSHOT = Path(os.environ.get("MCP_INDEX_BENCH_SNAPSHOT") or
                ROOT.parent / "shared" / "data" / "official-registry-2025-12-18.json")
OFFICIAL = "io.modelcontextprotocol.registry/official"


def _shift(stamp: str, minutes: int) -> str:
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _groups(snapshot: Path) -> list[list[dict[str, Any]]]:
    """The snapshot's entries grouped by server name (first-seen order)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in json.loads(snapshot.read_text()):
        by_name.setdefault(entry["server"]["name"], []).append(entry)
    return list(by_name.values())


def _status_for(copy_no: int, index: int) -> str:
    """Deterministic: ~3% deprecated, ~1% deleted, never in the unchanged first copy."""
    if not copy_no:
        return "active"
    bucket = (copy_no * 7919 + index * 104729) % 100
    return "deleted" if bucket == 0 else "deprecated" if bucket <= 3 else "active"


def _vary(entry: dict[str, Any], copy_no: int, index: int) -> dict[str, Any]:
    item = copy.deepcopy(entry)
    if not copy_no:
        return item
    server = item["server"]
    server["name"] = f"{server['name']}-c{copy_no}"[:200]
    for remote in server.get("remotes") or []:
        if isinstance(remote, dict) and isinstance(remote.get("url"), str):
            remote["url"] = remote["url"].rstrip("/") + f"/c{copy_no}"
    meta = item["_meta"][OFFICIAL]
    for key in ("publishedAt", "updatedAt"):
        meta[key] = _shift(meta[key], copy_no)
    status = _status_for(copy_no, index)
    if status != "active":
        meta.update(status=status, statusChangedAt=meta["updatedAt"])
        if status == "deprecated":
            meta["statusMessage"] = "superseded by a newer server"
    return item


def _relatest(group: list[dict[str, Any]]) -> None:
    metas = [(e["server"]["version"], e["_meta"][OFFICIAL]) for e in group]
    best = pick_latest([Candidate(v, datetime.fromisoformat(m["publishedAt"].replace("Z", "+00:00")),
                                  m["status"] == "deleted") for v, m in metas])
    for version, meta in metas:
        meta["isLatest"] = best is not None and version == best.version


def iter_entries(count: int, snapshot: Path = SNAPSHOT,
                 keep: Callable[[int, int], bool] | None = None) -> Iterator[dict[str, Any]]:
    """`count` entries: the snapshot first, then renamed copies; a server's versions together.

    `keep(copy_no, group_no)`, when given, skips whole servers cheaply (positions still count
    towards `count`), for a fake upstream that serves a sample of a large dataset.
    """
    groups = _groups(snapshot)
    produced = copy_no = 0
    while produced < count:
        for group_no, group in enumerate(groups):
            take = group[: count - produced]
            if not take:
                return
            first = produced
            produced += len(take)
            if keep is not None and not keep(copy_no, group_no):
                continue
            out = [_vary(e, copy_no, first + i) for i, e in enumerate(take)]
            if copy_no:
                _relatest(out)
            yield from out
        copy_no += 1


def generate(count: int, snapshot: Path = SNAPSHOT) -> list[dict[str, Any]]:
    """`count` entries as a list (small counts: tests and the mirror's fake upstream)."""
    return list(iter_entries(count, snapshot))


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 66000
    out = sys.stdout
    for entry in iter_entries(count):
        out.write(json.dumps(entry, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()
