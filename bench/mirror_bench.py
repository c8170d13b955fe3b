"""Mirror benchmark: a full mirror of N (66,000) versions, then an incremental sync of 500 changes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench_mirror \\
        .venv/bin/python -m bench.mirror_bench [COUNT] [CHANGES]

The database named in DATABASE_URL is dropped and recreated. The fake upstream runs in a
child process (bench/mirror_fake.py) so that the peak memory reported is the mirror's own.
"""

from __future__ import annotations

import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")


def recreate_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 66000
    changes = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    url = os.environ["DATABASE_URL"]
    if "bench" not in url:
        sys.exit("refusing: DATABASE_URL must name a dedicated bench database (it is recreated)")
    recreate_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    from curation.models import Catalog, CatalogEntry, Upstream
    from curation.services.membership import catalog_rebuild
    from curation.sync import upstream_sync
    from registry.models import ServerVersion

    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("curation").setLevel(logging.WARNING)
    call_command("migrate", verbosity=0)

    fake = subprocess.Popen([sys.executable, "-m", "bench.mirror_fake", str(count)], cwd=ROOT,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout is not None
        _, port, served = fake.stdout.readline().split()
        base = f"http://127.0.0.1:{port}"
        upstream = Upstream.objects.create(name="official", base_url=f"{base}/v0.1")
        baseline = rss_mib()

        started = time.perf_counter()
        full = upstream_sync(upstream=upstream)
        full_s = time.perf_counter() - started
        peak = rss_mib()
        stored = ServerVersion.objects.count()
        assert full.state == "succeeded" and stored == int(served), (full, stored)

        changed = httpx.get(f"{base}/_control/mutate", params={"count": changes}).json()["changed"]
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
    finally:
        if fake.stdin:
            fake.stdin.close()
        fake.wait(30)

    print(f"full mirror: {stored} versions in {full_s:.1f} s = {stored / full_s:.0f} versions/s, "
          f"{full.pages} pages, invalid={full.invalid}, peak RSS {peak:.0f} MiB "
          f"(baseline {baseline:.0f} MiB)")
    print(f"incremental: {changed} upstream changes, {inc.pages} pages, created={inc.created} "
          f"updated={inc.updated} unchanged={inc.unchanged} in {inc_s:.2f} s")
    print(f"catalog rebuild (2 rules, {rebuilt.servers} servers, {included} included): "
          f"{rebuild_s:.1f} s")


if __name__ == "__main__":
    main()
