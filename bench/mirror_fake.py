"""The fake upstream for the mirror benchmark, in its own process (so memory is measured apart).

    python -m bench.mirror_fake COUNT [EVERY]

Serves COUNT generated versions (bench/generate.py) like the official list API; with EVERY,
only the servers at every EVERY-th position of that dataset (a sample of a large dataset
already loaded elsewhere, for incremental syncs). A GET of `/_control/mutate?count=N` makes
N upstream changes: half status changes, half new versions.
"""

from __future__ import annotations

import copy
import json
import sys
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

from bench.generate import generate, iter_entries
from tests.support.fake_upstream import OFFICIAL, FakeRegistry, stamp


class BenchRegistry(FakeRegistry):
    """The test fake plus a control endpoint that changes the data."""

    def mutate(self, count: int) -> int:
        keys = sorted(self.entries)
        step = max(1, len(keys) // count)
        changed = 0
        for key in keys[::step][: count // 2]:
            meta = self.entries[key]["_meta"][OFFICIAL]
            self.set_status(*key, "deprecated" if meta["status"] == "active" else "active")
            changed += 1
        for key in keys[1::step][: count - changed]:
            item = copy.deepcopy(self.entries[key])
            item["server"]["version"] = "99.0.0-bench"
            now = stamp()
            item["_meta"][OFFICIAL].update(publishedAt=now, updatedAt=now, statusChangedAt=now,
                                           status="active", isLatest=True)
            self.put(item)
            self._relatest(key[0])
            changed += 1
        return changed

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        if parts.path == "/_control/mutate":
            count = int(parse_qs(parts.query).get("count", ["500"])[0])
            with self.lock:
                changed = self.mutate(count)
            self._send(request, 200, json.dumps({"changed": changed}).encode())
            return
        super().handle(request)


def main() -> None:
    count = int(sys.argv[1])
    every = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if every > 1:
        entries = list(iter_entries(count, keep=lambda copy_no, group_no:
                                    (copy_no * 1009 + group_no) % every == 0))
    else:
        entries = generate(count)
    registry = BenchRegistry(entries)
    registry.start()
    assert registry.server is not None
    print(f"ready {registry.server.server_address[1]} {len(registry.entries)}", flush=True)
    sys.stdin.read()  # runs until the parent closes our stdin
    registry.stop()


if __name__ == "__main__":
    main()
