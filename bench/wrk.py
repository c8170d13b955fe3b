"""Running wrk and reading its `--latency` report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


@dataclass(frozen=True)
class WrkResult:
    """The numbers of one wrk run; `invalid` says why they must not be used."""

    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    timeouts: int
    socket_errors: int

    @property
    def invalid(self) -> str:
        problems = []
        if self.requests == 0:
            problems.append("no request completed")
        if self.non_2xx:
            problems.append(f"{self.non_2xx} non-2xx responses")
        if self.timeouts:
            problems.append(f"{self.timeouts} timeouts")
        return ", ".join(problems)


def ensure_wrk() -> str:
    """The wrk binary, installed from the distribution's packages when missing (root only)."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, stdout=subprocess.DEVNULL)
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("wrk is not installed and could not be installed")
    return found


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse(output: str) -> WrkResult:
    """Requests/s, p50/p99 (ms), non-2xx and socket errors from a `wrk --latency` report."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    p50 = re.search(r"^\s+50(?:\.000)?%\s+(\S+)", output, re.M)
    p99 = re.search(r"^\s+99(?:\.000)?%\s+(\S+)", output, re.M)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if not (rps and total and p50 and p99):
        raise ValueError("wrk printed no report:\n" + output)
    connect, read, write, timeout = (int(g) for g in sock.groups()) if sock else (0, 0, 0, 0)
    return WrkResult(requests=int(total.group(1)), rps=float(rps.group(1)), p50_ms=_ms(p50.group(1)),
                     p99_ms=_ms(p99.group(1)), non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
                     timeouts=timeout, socket_errors=connect + read + write)


def run(url: str, *, duration: str, connections: int, threads: int, out: Path) -> WrkResult:
    """One wrk run; its raw report is kept in `out`."""
    command = [ensure_wrk(), f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency",
               "--timeout", "10s", url]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    out.write_text(" ".join(command) + "\n" + done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}) on {url}: {done.stderr.strip()}")
    return parse(done.stdout)
