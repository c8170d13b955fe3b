"""What every command receives: the global options, the way to the registry, the stored token."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from mcp_index_cli import output
from mcp_index_cli.config import DEFAULT_NAMESPACE, TOKEN_ENV, resolve_registry, stored_credential
from mcp_index_cli.errors import EXIT_AUTH, CliError
from mcp_index_cli.http import Reply, send

EXTENSION_PREFIX = f"/v0.1/x/{DEFAULT_NAMESPACE}"


@dataclass(frozen=True)
class Context:
    """Global options: `--registry` (None when not given) and `--json`.

    `transport` is handed to every request (None: the network); see `http.send`.
    """

    registry_flag: str | None
    json: bool
    transport: httpx.BaseTransport | None = None

    def registry(self) -> str:
        """The registry URL this command talks to."""
        return resolve_registry(self.registry_flag)

    def url(self, path: str) -> str:
        """An absolute URL for an API path on the registry."""
        return self.registry() + path

    def send(self, method: str, path: str, **kwargs: Any) -> Reply:
        """One request to an API path on the registry (keywords as for `http.send`)."""
        return send(method, self.url(path), transport=self.transport, **kwargs)

    def token(self) -> str:
        """$MCP_INDEX_TOKEN, else the stored token; exit 4 when there is none."""
        from_env = os.environ.get(TOKEN_ENV, "").strip()
        if from_env:
            return from_env
        registry = self.registry()
        credential = stored_credential(registry)
        if credential is None:
            raise CliError(f"not logged in to {registry}", code=EXIT_AUTH,
                           details=("run `mcp-index login <method>` first",))
        if credential.is_expired():
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(credential.expires_at))
            output.warn(f"your {credential.method} token for {registry} expired at {when}; "
                        f"log in again with `mcp-index login {credential.method}`")
        return credential.token

    def token_if_any(self) -> str | None:
        """Like `token`, but None instead of an error when not logged in."""
        try:
            return self.token()
        except CliError:
            return None
