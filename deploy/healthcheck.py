"""Container health checks without curl (python:3.11-slim has none); standard library only,
so a check costs a bare interpreter start, not a Django import.

    python deploy/healthcheck.py [URL]             exit 0 when URL answers 2xx
                                                   (default http://127.0.0.1:8000/healthz)
    python deploy/healthcheck.py --fresh PATH SECS exit 0 when a file PATH* changed within SECS
                                                   (celery beat rewrites its schedule file)

The HTTP check sends the first literal host of DJANGO_ALLOWED_HOSTS as Host, so Django's host
validation accepts it whatever the address the check connects to.
"""

from __future__ import annotations

import glob
import os
import sys
import time
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def allowed_host() -> str | None:
    """The first DJANGO_ALLOWED_HOSTS entry that is a plain name (not `*` or `.suffix`)."""
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "").split(","):
        host = host.strip()
        if host and not host.startswith((".", "*")):
            return host
    return None


def check_url(url: str, timeout: float = 4.0) -> int:
    request = urllib.request.Request(url)  # noqa: S310 - the URL is our own, from the command line
    host = allowed_host()
    if host:
        request.add_header("Host", host)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    if 200 <= status < 300:
        return 0
    print(f"unhealthy: {url} answered {status}", file=sys.stderr)
    return 1


def check_fresh(pattern: str, max_age: float) -> int:
    mtimes = [os.path.getmtime(path) for path in glob.glob(glob.escape(pattern) + "*")]
    if mtimes and time.time() - max(mtimes) <= max_age:
        return 0
    print(f"unhealthy: nothing matching {pattern}* changed in the last {max_age:.0f}s", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if argv[:1] == ["--fresh"] and len(argv) == 3:
        return check_fresh(argv[1], float(argv[2]))
    if len(argv) <= 1 and argv[:1] != ["--fresh"]:
        return check_url(argv[0] if argv else DEFAULT_URL)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
