"""Vary the real registry snapshot into N realistic list entries (`{server, _meta}`).

Copies keep every real shape (packages, remotes, invalid entries, version histories); each
copy gets a distinct server name (`<name>-c<k>`), shifted timestamps, and remote URLs made
unique per name so that the one-URL-one-name rule holds.

    python bench/generate.py 66000 > /tmp/bench-66k.json
"""

from __future__ import annotations

import copy
import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

SNAPSHOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "official-registry-2025-12-18.json"
OFFICIAL = "io.modelcontextprotocol.registry/official"


def _shift(stamp: str, minutes: int) -> str:
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")) + timedelta(minutes=minutes)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def generate(count: int, snapshot: Path = SNAPSHOT) -> list[dict]:
    """`count` entries: the snapshot first, then renamed copies of it."""
    base = json.loads(snapshot.read_text())
    out: list[dict] = []
    copy_no = 0
    while len(out) < count:
        for entry in base:
            if len(out) >= count:
                break
            item = copy.deepcopy(entry)
            if copy_no:
                server = item["server"]
                server["name"] = f"{server['name']}-c{copy_no}"[:200]
                for remote in server.get("remotes") or []:
                    if isinstance(remote, dict) and isinstance(remote.get("url"), str):
                        remote["url"] = remote["url"].rstrip("/") + f"/c{copy_no}"
                meta = item["_meta"][OFFICIAL]
                for key in ("publishedAt", "updatedAt"):
                    meta[key] = _shift(meta[key], copy_no)
            out.append(item)
        copy_no += 1
    return out


if __name__ == "__main__":
    json.dump(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 66000), sys.stdout)
