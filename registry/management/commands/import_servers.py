"""`manage.py import_servers FILE_OR_URL`: load server.json documents or registry list entries."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.services import IngestOutcome, ingest_prepare, versions_ingest_bulk

MAX_IMPORT_BYTES = 512 * 1024 * 1024
BATCH = 500  # entries per transaction: each batch commits whole, latest flags recomputed


def load_entries(source: str) -> list[Any]:
    """A JSON array from a file path, an http(s) URL, or a registry `/servers` URL (paged)."""
    if source.startswith(("http://", "https://")):
        if "/servers" in source:
            return _walk_registry(source)
        response = httpx.get(source, timeout=60, follow_redirects=True)
        response.raise_for_status()
        data = response.json()
    else:
        path = Path(source)
        if not path.is_file():
            raise CommandError(f"no such file: {source}")
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise CommandError(f"{source} is larger than {MAX_IMPORT_BYTES} bytes")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{source} is not valid JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("servers"), list):
        return data["servers"]
    if not isinstance(data, list):
        raise CommandError("expected a JSON array of server.json documents or list entries")
    return data


def _walk_registry(url: str) -> list[Any]:
    entries: list[Any] = []
    cursor = None
    with httpx.Client(timeout=60) as client:
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            response = client.get(url, params=params)
            response.raise_for_status()
            body = response.json()
            entries += body.get("servers", [])
            cursor = (body.get("metadata") or {}).get("nextCursor")
            if not cursor:
                return entries


class Command(BaseCommand):
    help = "Import server.json documents or registry list entries ({server, _meta}) idempotently."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="a JSON file, a URL, or a registry /v0/servers URL")
        parser.add_argument("--origin", default="import",
                            help="origin recorded on created versions (default: import)")

    def handle(self, *args: Any, source: str, origin: str, **options: Any) -> None:
        try:
            entries = load_entries(source)
        except httpx.HTTPError as exc:
            raise CommandError(f"could not fetch {source}: {exc}") from exc
        counts: Counter[str] = Counter()
        batch = []
        for entry in entries:
            item = ingest_prepare(entry=entry, origin=origin)
            if isinstance(item, IngestOutcome):
                self._count(counts, item, options["verbosity"])
                continue
            batch.append(item)
            if len(batch) == BATCH:
                self._ingest(counts, batch, origin, options["verbosity"])
                batch = []
        if batch:
            self._ingest(counts, batch, origin, options["verbosity"])
        self.stdout.write(
            f"created={counts['created']} updated={counts['updated']} "
            f"unchanged={counts['unchanged']} invalid={counts['invalid']} "
            f"rejected={counts['rejected']} conflicts={counts['conflict']}"
        )

    def _ingest(self, counts: Counter[str], batch: list[Any], origin: str, verbosity: int
                ) -> None:
        for outcome in versions_ingest_bulk(prepared=batch, origin=origin):
            self._count(counts, outcome, verbosity)

    def _count(self, counts: Counter[str], outcome: IngestOutcome, verbosity: int) -> None:
        counts[outcome.action] += 1
        counts["invalid"] += outcome.invalid
        if outcome.action in ("rejected", "conflict") and verbosity > 1:
            self.stderr.write(f"{outcome.action}: {outcome.name} {outcome.version}: "
                              f"{outcome.reason}")
