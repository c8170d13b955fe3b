"""Where the CLI keeps credentials (per registry, mode 0600) and which registry it talks to."""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp_index_cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError

DEFAULT_REGISTRY = "http://127.0.0.1:8000"
CREDENTIALS_FILE = "credentials.json"
REGISTRY_ENV = "MCP_INDEX_REGISTRY"
TOKEN_ENV = "MCP_INDEX_TOKEN"
# Our extension API lives under /v0.1/x/<namespace>; `--namespace` overrides it for signing.
DEFAULT_NAMESPACE = "io.mcpindex"
NAMESPACE_ENV = "MCP_INDEX_NAMESPACE"


@dataclass(frozen=True)
class Credential:
    """A stored registry token: how it was obtained and when it stops working."""

    token: str
    method: str
    expires_at: int | None = None

    def is_expired(self, now: float | None = None) -> bool:
        """True when the token carries an expiry that has passed."""
        if self.expires_at is None:
            return False
        return (time.time() if now is None else now) >= self.expires_at

    def as_dict(self) -> dict[str, Any]:
        return {"token": self.token, "method": self.method, "expires_at": self.expires_at}


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/mcp-index`, else `~/.config/mcp-index`."""
    base = os.environ.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".config"
    return root / "mcp-index"


def credentials_path() -> Path:
    """The JSON file holding one credential per registry URL."""
    return config_dir() / CREDENTIALS_FILE


def normalize_registry(url: str) -> str:
    """Check that `url` is an http(s) base URL and drop any trailing slash."""
    cleaned = url.strip().rstrip("/")
    parts = urlsplit(cleaned)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"invalid registry URL {url!r}: expected http(s)://host[:port]",
                       code=EXIT_USAGE)
    if parts.query or parts.fragment:
        raise CliError(f"invalid registry URL {url!r}: no query or fragment allowed",
                       code=EXIT_USAGE)
    return cleaned


def _load() -> dict[str, Any]:
    path = credentials_path()
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"current": None, "registries": {}}
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON; delete it and log in again",
                       code=EXIT_FAILURE) from exc
    if not isinstance(data, dict) or not isinstance(data.get("registries", {}), dict):
        raise CliError(f"{path} has an unexpected shape; delete it and log in again")
    data.setdefault("registries", {})
    data.setdefault("current", None)
    return data


def _save(data: dict[str, Any]) -> None:
    """Write atomically: a 0600 temp file in a 0700 directory, then rename over."""
    directory = config_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".credentials-", dir=directory)  # mkstemp uses 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, credentials_path())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stored_credential(registry: str) -> Credential | None:
    """The credential saved for `registry`, if any."""
    entry = _load()["registries"].get(registry)
    if not isinstance(entry, dict) or not isinstance(entry.get("token"), str):
        return None
    expires = entry.get("expires_at")
    return Credential(
        token=entry["token"],
        method=str(entry.get("method") or "unknown"),
        expires_at=int(expires) if isinstance(expires, int | float) else None,
    )


def save_credential(registry: str, credential: Credential) -> Path:
    """Store `credential` for `registry` and make it the current registry."""
    data = _load()
    data["registries"][registry] = credential.as_dict()
    data["current"] = registry
    _save(data)
    return credentials_path()


def forget_credential(registry: str) -> bool:
    """Remove the credential for `registry`; True when there was one."""
    data = _load()
    existed = data["registries"].pop(registry, None) is not None
    if existed:
        if data.get("current") == registry:
            data["current"] = None
        _save(data)
    return existed


def resolve_registry(flag: str | None) -> str:
    """`--registry`, else $MCP_INDEX_REGISTRY, else the last login's registry, else local."""
    if flag:
        return normalize_registry(flag)
    env = os.environ.get(REGISTRY_ENV, "").strip()
    if env:
        return normalize_registry(env)
    current = _load().get("current")
    if isinstance(current, str) and current:
        return normalize_registry(current)
    return DEFAULT_REGISTRY
