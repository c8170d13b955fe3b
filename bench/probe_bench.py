"""Probe benchmark: re-probing every remote entry of the real snapshot, pointed at loopback.

Every version of data/official-registry-2025-12-18.json with a streamable-http or sse remote
(885 versions) is imported with its remote URLs rewritten to a host of its own under
bench.probe.test (each mapped to 127.0.0.1 by MCP_INDEX_OUTBOUND_HOSTS, one certificate for
*.bench.probe.test from a throwaway CA), served by two official-SDK servers in another
process (bench/probe_servers.py: streamable HTTP and SSE). Then the whole set is probed and
recorded (discovery.runner.probe_many: SSRF guard, mcp SDK client, probe_record) at each
concurrency, twice (the second pass is the steady state: same digests, no tool rows
rewritten). Reported: servers per minute, the split between probing and recording, and the
process's resident memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench \\
        .venv/bin/python bench/probe_bench.py [CONCURRENCY ...]

It creates (and drops) a throwaway `test_<name>` database.
"""

from __future__ import annotations

import json
import logging
import os
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

import anyio  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from discovery import runner  # noqa: E402
from discovery.models import Inventory, Probe, Tool  # noqa: E402
from discovery.services import inventories_discover, probe_record  # noqa: E402
from registry.services import version_ingest  # noqa: E402
from tests.support.loopback import make_tls  # noqa: E402
from tests.support.network import free_port  # noqa: E402

SNAPSHOT = ROOT.parent / "shared" / "data" / "official-registry-2025-12-18.json"
DOMAIN = "bench.probe.test"


def rss_mib() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def entries(streamable_port: int, sse_port: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Snapshot entries with a probeable remote, their URLs pointed at loopback."""
    out, hosts = [], {}
    for n, entry in enumerate(json.loads(SNAPSHOT.read_text())):
        remotes = entry["server"].get("remotes") or []
        if not any(r.get("type") in ("streamable-http", "sse") for r in remotes):
            continue
        for k, r in enumerate(remotes):
            host = f"s{n}-{k}.{DOMAIN}"
            hosts[host] = "127.0.0.1"
            if r.get("type") == "sse":
                r["url"] = f"https://{host}:{sse_port}/sse"
            else:
                r["url"] = f"https://{host}:{streamable_port}/mcp"
            r.pop("variables", None)
        out.append(entry)
    return out, hosts


def wait(port: int) -> None:
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"bench server on {port} did not start")


def one_pass(concurrency: int, *, fresh: bool) -> dict[str, Any]:
    if fresh:  # as if never probed: every tool set is new (tool rows written)
        Probe.objects.all().delete()
        Tool.objects.all().delete()
        Inventory.objects.update(status="", tools_digest="", tool_count=None, checked_at=None)
    inventories = list(Inventory.objects.order_by("pk"))
    started = time.monotonic()
    results = anyio.run(runner._probe_all, inventories, concurrency, 2)
    probed = time.monotonic() - started
    for inventory, result in results:
        probe_record(inventory_id=inventory.pk, result=result)
    total = time.monotonic() - started
    outcomes: dict[str, int] = {}
    for _, result in results:
        outcomes[result.status] = outcomes.get(result.status, 0) + 1
    return {"concurrency": concurrency, "servers": len(results), "probe_s": round(probed, 1),
            "record_s": round(total - probed, 1), "total_s": round(total, 1),
            "per_min": round(len(results) / total * 60), "probe_only_per_min":
            round(len(results) / probed * 60), "outcomes": outcomes,
            "rss_mib": round(rss_mib()), "peak_rss_mib": round(peak_mib())}


def main() -> None:
    logging.disable(logging.INFO)
    levels = [int(a) for a in sys.argv[1:]] or [8, 32]
    tmp = Path(tempfile.mkdtemp(prefix="probe-bench-"))
    tls = make_tls(tmp, [f"*.{DOMAIN}"])
    streamable_port, sse_port = free_port(), free_port()
    servers = subprocess.Popen([sys.executable, str(ROOT / "bench" / "probe_servers.py"),
                                str(tmp / "server.pem"), str(streamable_port), str(sse_port)])
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        wait(streamable_port)
        wait(sse_port)
        data, hosts = entries(streamable_port, sse_port)
        settings.MCP_INDEX_OUTBOUND_HOSTS = hosts
        settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = ["127.0.0.0/8"]
        settings.MCP_INDEX_OUTBOUND_CA_BUNDLE = str(tls.ca_file)
        for entry in data:
            version_ingest(entry=entry, origin="official")
        found = inventories_discover()
        print(f"versions with a probeable remote: {len(data)}; inventories: {found}; "
              f"rss before probing {rss_mib():.0f} MiB", flush=True)
        for level in levels:
            for label in ("first", "steady"):
                row = one_pass(level, fresh=label == "first")
                row["pass"] = label
                print(json.dumps(row), flush=True)
        print(f"probes stored: {Probe.objects.count()}")
    finally:
        servers.terminate()
        servers.wait(timeout=10)
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
