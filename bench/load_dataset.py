"""Load generated entries into a bench database the way a mirror stores them, fast (COPY).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench \\
        python bench/load_dataset.py --generate 66000 --recreate

Every column is filled by the app's own code: `registry.services.ingest_prepare` (the mirror's
parser: compact text, digest, search text, namespace, timestamps, status, validation issues,
upstream `_meta`, remote URLs) and `pick_latest` for `is_latest`; only the INSERTs are
replaced by COPY, with the secondary indexes built once at the end. Input is JSON lines
(bench/generate.py: a file, `-` for stdin, or `--generate N` to run the generator in a child
process), each server's versions adjacent. Then a public catalog (`team`: default deny,
npm-packaged servers with a valid schema allowed, about a third of all servers) is created
and materialized by the catalog membership service, and the database is VACUUM ANALYZEd.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import psycopg
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")  # loading data needs no production secrets

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from curation.models import Catalog, CatalogEntry, EntryState  # noqa: E402
from curation.services.membership import catalog_rebuild  # noqa: E402
from registry.models import ServerVersion  # noqa: E402
from registry.services import PreparedEntry, ingest_prepare  # noqa: E402
from registry.versioning import Candidate, pick_latest  # noqa: E402

ORIGIN = "official"  # as if mirrored from an upstream of that name (bench/mirror_bench.py syncs it)
CATALOG_RULES: list[dict[str, Any]] = [
    {"action": "deny", "schema_valid": False},
    {"action": "allow", "registry_type": "npm"},
]
# The columns written; checked against the model so that a new column cannot be missed.
SV_COLUMNS = ("id", "name", "version", "is_latest", "manifest", "manifest_text", "schema_url",
              "title", "description", "search_text", "digest", "namespace", "status",
              "status_message", "status_changed_at", "published_at", "updated_at", "origin",
              "validation_issues", "upstream_meta")
JSON_COLUMNS = frozenset({"manifest", "validation_issues", "upstream_meta"})
TABLES = ("registry_serverversion", "registry_remoteurl")


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def recreate_database(url: str) -> None:
    """Drop and create the database named in `url` (it must be a bench database)."""
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to recreate {name!r}: not a bench database")
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def read_lines(stream: IO[str]) -> Iterator[dict[str, Any]]:
    for line in stream:
        if line.strip():
            yield json.loads(line)


def by_server(entries: Iterable[Any]) -> Iterator[list[Any]]:
    """Runs of entries with the same server name; refuses a name that comes back later."""
    done: set[str] = set()
    group: list[Any] = []
    current: Any = None
    for entry in entries:
        server = entry.get("server") if isinstance(entry, dict) else None
        name = server.get("name") if isinstance(server, dict) else None
        if group and name != current:
            if isinstance(current, str):
                done.add(current)
            yield group
            group = []
        if isinstance(name, str) and name in done:
            sys.exit(f"input is not grouped by server: {name} comes back after other servers")
        current = name
        group.append(entry)
    if group:
        yield group


class Loader:
    """Prepared rows into COPY: server versions streamed, remote URLs after them."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.now = datetime.now(UTC)
        self.next_id = 1
        self.versions = self.servers = self.rejected = self.invalid = 0
        self.url_rows: list[tuple[int, str, str]] = []

    def rows(self, groups: Iterable[list[Any]]) -> Iterator[tuple[Any, ...]]:
        for group in groups:
            unique: dict[str, PreparedEntry] = {}
            for entry in group:
                prepared = ingest_prepare(entry=entry, origin=self.origin, now=self.now)
                if isinstance(prepared, PreparedEntry):
                    unique[prepared.version] = prepared  # a repeated key: the last copy wins
                else:
                    self.rejected += 1
            if not unique:
                continue
            best = pick_latest([Candidate(p.version, p.values["published_at"],
                                          p.values["status"] == "deleted") for p in unique.values()])
            self.servers += 1
            for p in unique.values():
                row = {**p.values, "id": self.next_id, "name": p.name, "version": p.version,
                       "is_latest": best is not None and p.version == best.version}
                self.url_rows.extend((self.next_id, url, p.name) for url in p.remote_urls)
                self.next_id += 1
                self.versions += 1
                self.invalid += p.invalid
                yield tuple(Jsonb(row[c]) if c in JSON_COLUMNS and row[c] is not None else row[c]
                            for c in SV_COLUMNS)

    def copy(self, cursor: Any, groups: Iterable[list[Any]]) -> None:
        with cursor.copy(f"COPY registry_serverversion ({', '.join(SV_COLUMNS)}) FROM STDIN") as cp:
            for row in self.rows(groups):
                cp.write_row(row)
        with cursor.copy("COPY registry_remoteurl (server_version_id, url, name) FROM STDIN") as cp:
            for url_row in self.url_rows:
                cp.write_row(url_row)
        for table in TABLES:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)")


def drop_secondary_indexes(cursor: Any) -> list[str]:
    """Drop indexes that back no constraint (rebuilt after the COPY); their definitions."""
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
                   "AND indexname NOT IN (SELECT conname FROM pg_constraint)", [list(TABLES)])
    found = cursor.fetchall()
    for name, _ in found:
        cursor.execute(f'DROP INDEX "{name}"')
    return [definition for _, definition in found]


def check_columns() -> None:
    model = {f.attname for f in ServerVersion._meta.concrete_fields}
    if model != set(SV_COLUMNS):
        sys.exit(f"load_dataset.SV_COLUMNS is out of date: model has {sorted(model)}")


def load(entries: Iterable[Any], origin: str) -> Loader:
    """Replace every server version with `entries`, in one transaction."""
    check_columns()
    loader = Loader(origin)
    with transaction.atomic(), connection.cursor() as wrapper:
        cursor = wrapper.cursor
        cursor.execute("TRUNCATE registry_serverversion, registry_remoteurl CASCADE")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        indexes = drop_secondary_indexes(cursor)
        loader.copy(cursor, by_server(entries))
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the deferred FKs before indexing
        for definition in indexes:
            cursor.execute(definition)
    return loader


def catalog_setup(slug: str) -> tuple[int, int, int]:
    """A public catalog with CATALOG_RULES, materialized by the membership service's rebuild.

    (Rows made directly rather than through catalog_create and catalog_rules_replace: each of
    those queues a full rebuild, which would double the time.) Returns (servers included,
    versions included, entries)."""
    Catalog.objects.filter(slug=slug).delete()
    catalog = Catalog.objects.create(slug=slug, title="Team picks", public=True,
                                     default_action="deny")
    for position, rule in enumerate(CATALOG_RULES):
        catalog.rules.create(position=position, **rule)
    catalog_rebuild(catalog=catalog)
    included = CatalogEntry.objects.filter(catalog=catalog, state=EntryState.INCLUDED)
    return (included.values("name").distinct().count(), included.count(),
            CatalogEntry.objects.filter(catalog=catalog).count())


def vacuum_analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("path", nargs="?", help="JSON lines file, or - for stdin")
    source.add_argument("--generate", type=int, metavar="N", help="run bench/generate.py N")
    parser.add_argument("--recreate", action="store_true",
                        help="drop and recreate the database, then migrate")
    parser.add_argument("--origin", default=ORIGIN)
    parser.add_argument("--catalog", default="team", help="slug of the catalog ('' for none)")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if "bench" not in urlsplit(url).path:
        sys.exit("DATABASE_URL must name a bench database (its versions are replaced)")
    started = time.perf_counter()
    if args.recreate:
        recreate_database(url)
    call_command("migrate", verbosity=0)
    generator = None
    if args.generate is not None:
        generator = subprocess.Popen([sys.executable, str(ROOT / "bench" / "generate.py"),
                                      str(args.generate)], stdout=subprocess.PIPE, text=True)
        assert generator.stdout is not None
        stream: IO[str] = generator.stdout
    else:
        stream = sys.stdin if args.path == "-" else open(args.path, encoding="utf-8")  # noqa: SIM115
    t0 = time.perf_counter()
    with stream:
        loader = load(read_lines(stream), args.origin)
    if generator is not None and generator.wait() != 0:
        sys.exit("bench/generate.py failed")
    t_load = time.perf_counter() - t0
    print(f"loaded {loader.versions} versions of {loader.servers} servers "
          f"({loader.invalid} with validation issues, {loader.rejected} rejected, "
          f"{len(loader.url_rows)} remote URLs) in {t_load:.1f} s "
          f"= {loader.versions / t_load:.0f} versions/s, peak RSS so far {rss_mib():.0f} MiB", flush=True)
    if args.catalog:
        t0 = time.perf_counter()
        servers, versions, entries = catalog_setup(args.catalog)
        print(f"catalog {args.catalog}: {servers} of {loader.servers} servers included "
              f"({versions} versions; {entries} entries) in {time.perf_counter() - t0:.1f} s",
              flush=True)
    t0 = time.perf_counter()
    vacuum_analyze()
    print(f"VACUUM ANALYZE in {time.perf_counter() - t0:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"total {time.perf_counter() - started:.1f} s, database size {size}, "
          f"peak RSS {rss_mib():.0f} MiB")


if __name__ == "__main__":
    main()
