"""Apply the judged rules (rules.py) to the snapshot's latest versions and write qrels.json.

    python -m bench.search_quality.make_qrels [--show QUERY]

qrels.json: [{"id", "query", "kind", "split", "grades": {server name: 1..3}}]. Every third
query (by position) is held out as the test split; the others are the dev split, the only
ones looked at when choosing between methods.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from bench.search_quality.rules import QUERIES

HERE = Path(__file__).resolve().parent
SNAPSHOT = HERE.parents[2] / "shared" / "data" / "official-registry-2025-12-18.json"
if not SNAPSHOT.exists():  # a worktree of /work/main sees the shared folder one level up
    SNAPSHOT = Path("/work/shared/data/official-registry-2025-12-18.json")


def latest_servers(path: Path = SNAPSHOT) -> list[dict[str, Any]]:
    """The snapshot's latest version of each server, as published."""
    entries = json.loads(path.read_text())
    latest: dict[str, dict[str, Any]] = {}
    for entry in entries:
        meta = entry["_meta"]["io.modelcontextprotocol.registry/official"]
        if meta.get("isLatest") and meta.get("status", "active") != "deleted":
            latest[entry["server"]["name"]] = entry["server"]
    return list(latest.values())


def judged_text(server: dict[str, Any]) -> str:
    """What a judge reads of a server: names, words and package identifiers."""
    parts = [server.get("name"), server.get("title"), server.get("description")]
    parts += [p.get("identifier") for p in server.get("packages") or [] if isinstance(p, dict)]
    parts += [r.get("url") for r in server.get("remotes") or [] if isinstance(r, dict)]
    return " ".join(p for p in parts if isinstance(p, str)).lower()


def judge(servers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    texts = {s["name"]: judged_text(s) for s in servers}
    out = []
    for i, (kind, query, rules) in enumerate(QUERIES):
        grades: dict[str, int] = {}
        for name, text in texts.items():
            grade = max((g for g, rx in rules if re.search(rx, text)), default=0)
            if grade:
                grades[name] = grade
        out.append({"id": i, "query": query, "kind": kind,
                    "split": "test" if i % 3 == 2 else "dev", "grades": grades})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--show", default="")
    args = parser.parse_args()
    qrels = judge(latest_servers())
    if args.show:
        for q in qrels:
            if q["query"] == args.show:
                for name, grade in sorted(q["grades"].items(), key=lambda x: -x[1]):
                    print(grade, name)
        return
    (HERE / "qrels.json").write_text(json.dumps(qrels, indent=1, sort_keys=True) + "\n")
    for q in qrels:
        counts = [sum(1 for g in q["grades"].values() if g == k) for k in (3, 2, 1)]
        print(f"{q['split']:4} {q['kind']:8} {q['query'][:40]:40} "
              f"3:{counts[0]:3} 2:{counts[1]:3} 1:{counts[2]:3}")


if __name__ == "__main__":
    main()
