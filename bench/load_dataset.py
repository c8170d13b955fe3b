"""Bulk-load generated entries into the configured database (bench only: no validation).

    DATABASE_URL=... python bench/load_dataset.py /tmp/bench-66k.json
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from registry.manifest import OFFICIAL_META_KEY, canonical_digest, compact_json, namespace_of, search_text_of  # noqa: E402
from registry.models import ServerVersion  # noqa: E402
from registry.services import _parse_time  # noqa: E402
from registry.versioning import Candidate, pick_latest  # noqa: E402


def main(path: str) -> None:
    entries = json.loads(Path(path).read_text())
    started = time.perf_counter()
    ServerVersion.objects.all().delete()
    by_name: dict[str, list[dict]] = defaultdict(list)
    for entry in entries:
        by_name[entry["server"]["name"]].append(entry)
    rows = []
    for name, group in by_name.items():
        metas = [e["_meta"][OFFICIAL_META_KEY] for e in group]
        latest = pick_latest([Candidate(e["server"]["version"], _parse_time(m["publishedAt"]),
                                        m["status"] == "deleted") for e, m in zip(group, metas, strict=True)])
        for entry, meta in zip(group, metas, strict=True):
            doc = entry["server"]
            published = _parse_time(meta["publishedAt"])
            rows.append(ServerVersion(
                name=name, namespace=namespace_of(name), version=doc["version"], manifest=doc,
                manifest_text=compact_json(doc), schema_url=doc.get("$schema", ""),
                title=doc.get("title") or "", description=doc.get("description") or "",
                search_text=search_text_of(doc), status=meta["status"],
                status_changed_at=published, published_at=published,
                updated_at=_parse_time(meta["updatedAt"]), origin="bench",
                is_latest=latest is not None and doc["version"] == latest.version,
                digest=canonical_digest(doc)))
    ServerVersion.objects.bulk_create(rows, batch_size=2000)
    print(f"loaded {len(rows)} versions of {len(by_name)} servers in "
          f"{time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main(sys.argv[1])
