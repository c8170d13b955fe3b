"""Sync throughput: a full mirror of N versions, and incremental syncs of K changes.

    # (a) full mirror of N (66,000) versions into a fresh database, then K (500) changes
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench_mirror \\
        .venv/bin/python -m bench.mirror_bench [--full N] [--changes K]

    # (b) K changes synced into a copy of a loaded dataset (660,000 versions)
    .venv/bin/python -m bench.mirror_bench --on-copy-of mcp_index_bench660 [--changes K]

(a) drops and recreates the database in DATABASE_URL. (b) copies the dataset database with
`CREATE DATABASE … TEMPLATE` (nothing may be connected to it meanwhile), points an upstream
named like the rows' origin at a fake upstream that serves a sample of the same generated
entries, makes K changes there, syncs, runs the catalog reconcile, and drops the copy.
The fake upstream (bench/mirror_fake.py) runs in a child process over loopback HTTP, pages
of 100, so the peak memory reported is the syncing process's own. `--full 660000` mirrors
the large dataset too (about 15 minutes and several GiB for the fake upstream).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")
os.environ.setdefault("TEST_REDIS_URL", "redis://127.0.0.1:6379/10")  # not the test suites' db


def _admin(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def recreate_database(url: str, template: str | None = None) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


def drop_database(url: str) -> None:
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def fake_upstream(count: int, every: int = 1) -> Iterator[tuple[str, int]]:
    """(base URL, entries served) of a bench/mirror_fake.py child process."""
    fake = subprocess.Popen([sys.executable, "-m", "bench.mirror_fake", str(count), str(every)],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        _, port, served = fake.stdout.readline().split()
        yield f"http://127.0.0.1:{port}", int(served)
    finally:
        if fake.stdin:
            fake.stdin.close()
        fake.wait(60)


def setup_django(tasks: str = "queued") -> None:
    """Django, with tasks `queued` (sent to an in-process broker, as production sends them to
    Redis for a worker to run elsewhere) or `inline` (run inside the sync, as with no broker)."""
    import django

    django.setup()
    if tasks == "queued":
        from config.celery import app

        app.conf.task_always_eager = False
        app.conf.broker_url = "memory://"
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("curation").setLevel(logging.WARNING)


def full_then_incremental(count: int, changes: int, profile: str | None = None) -> None:
    """(a): a full mirror of `count` versions, `changes` upstream changes, a catalog rebuild."""
    from django.core.management import call_command

    from curation.models import Catalog, CatalogEntry, Upstream
    from curation.services.membership import catalog_rebuild
    from curation.sync import upstream_sync
    from registry.models import ServerVersion

    call_command("migrate", verbosity=0)
    with fake_upstream(count) as (base, served):
        upstream = Upstream.objects.create(name="official", base_url=f"{base}/v0.1")
        baseline = rss_mib()
        profiler = cProfile.Profile() if profile else None
        started = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        full = upstream_sync(upstream=upstream)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(profile)
        full_s = time.perf_counter() - started
        peak = rss_mib()
        stored = ServerVersion.objects.count()
        assert full.state == "succeeded" and stored == served, (full, stored)

        changed = httpx.get(f"{base}/_control/mutate", params={"count": changes},
                            timeout=120).json()["changed"]
        started = time.perf_counter()
        inc = upstream_sync(upstream=Upstream.objects.get(pk=upstream.pk))
        inc_s = time.perf_counter() - started
        assert inc.state == "succeeded", inc

    catalog = Catalog.objects.create(slug="bench", title="bench")
    catalog.rules.create(position=0, action="deny", namespace="io.github.*")
    catalog.rules.create(position=1, action="allow", kind="remote")
    started = time.perf_counter()
    rebuilt = catalog_rebuild(catalog=catalog)
    rebuild_s = time.perf_counter() - started
    included = CatalogEntry.objects.filter(catalog=catalog, state="included").count()
    print(f"full mirror: {stored} versions in {full_s:.1f} s = {stored / full_s:.0f} versions/s, "
          f"{full.pages} pages, invalid={full.invalid}, peak RSS {peak:.0f} MiB "
          f"(baseline {baseline:.0f} MiB)")
    print(f"incremental: {changed} upstream changes, {inc.pages} pages, created={inc.created} "
          f"updated={inc.updated} unchanged={inc.unchanged} in {inc_s:.2f} s "
          f"= {changed / inc_s:.0f} changes/s, peak RSS {rss_mib():.0f} MiB")
    print(f"catalog rebuild (2 rules, {rebuilt.servers} servers, {included} included): "
          f"{rebuild_s:.1f} s")


def incremental_on_copy(source: str, changes: int, every: int) -> None:
    """(b): `changes` upstream changes synced into a copy of a loaded dataset database."""
    from django.db.models import Max

    from curation.models import Upstream
    from curation.services.membership import catalogs_reconcile
    from curation.sync import upstream_sync
    from registry.models import ServerVersion

    origin = ServerVersion.objects.values_list("origin", flat=True).first()
    versions = ServerVersion.objects.count()
    high = ServerVersion.objects.filter(origin=origin).aggregate(m=Max("updated_at"))["m"]
    with fake_upstream(versions, every) as (base, served):
        upstream = Upstream.objects.create(name=origin, base_url=f"{base}/v0.1", high_water=high)
        changed = httpx.get(f"{base}/_control/mutate", params={"count": changes},
                            timeout=120).json()["changed"]
        baseline = rss_mib()
        started = time.perf_counter()
        inc = upstream_sync(upstream=upstream)
        inc_s = time.perf_counter() - started
        assert inc.state == "succeeded", inc
        after = ServerVersion.objects.count()
    started = time.perf_counter()
    reports = catalogs_reconcile()
    reconcile_s = time.perf_counter() - started
    touched = sum(r.servers for r in reports)
    print(f"incremental into a copy of {source} ({versions} versions, {after} after; the fake "
          f"upstream served a sample of {served}): {changed} upstream changes, {inc.pages} pages, "
          f"created={inc.created} updated={inc.updated} unchanged={inc.unchanged} in "
          f"{inc_s:.2f} s = {changed / inc_s:.0f} changes/s; peak RSS {rss_mib():.0f} MiB "
          f"(baseline {baseline:.0f} MiB)")
    print(f"catalog reconcile after it: {len(reports)} catalog(s), {touched} servers "
          f"re-examined in {reconcile_s:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description="Sync throughput benchmark.")
    parser.add_argument("count", nargs="?", type=int, help="same as --full (kept for old commands)")
    parser.add_argument("changes_pos", nargs="?", type=int, metavar="changes")
    parser.add_argument("--full", type=int, default=66000, help="versions to mirror in full")
    parser.add_argument("--changes", type=int, default=500)
    parser.add_argument("--on-copy-of", metavar="DATABASE",
                        help="instead: sync the changes into a copy of this loaded database")
    parser.add_argument("--sample-every", type=int, default=100,
                        help="with --on-copy-of: the fake upstream serves every Nth server")
    parser.add_argument("--tasks", choices=("queued", "inline"), default="queued",
                        help="queued: tasks go to an in-process broker, as production sends "
                             "them to a worker (default); inline: they run inside the sync "
                             "(search documents and embeddings included)")
    parser.add_argument("--profile", metavar="FILE",
                        help="(a) only: write cProfile stats of the full mirror to FILE")
    args = parser.parse_args()
    count = args.count if args.count is not None else args.full
    changes = args.changes_pos if args.changes_pos is not None else args.changes

    if args.on_copy_of:
        source = args.on_copy_of
        url = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432") + f"/{source}_sync"
        started = time.perf_counter()
        recreate_database(url, template=source)
        print(f"copied {source} to {source}_sync in {time.perf_counter() - started:.1f} s")
        os.environ["DATABASE_URL"] = url
        try:
            setup_django(args.tasks)
            incremental_on_copy(source, changes, args.sample_every)
        finally:
            from django.db import connections

            connections.close_all()
            drop_database(url)
        return

    url = os.environ["DATABASE_URL"]
    if "bench" not in url:
        sys.exit("refusing: DATABASE_URL must name a dedicated bench database (it is recreated)")
    recreate_database(url)
    setup_django(args.tasks)
    full_then_incremental(count, changes, args.profile)


if __name__ == "__main__":
    main()
