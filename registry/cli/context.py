"""What every command receives: the global options and access to the stored token."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from registry.cli import output
from registry.cli.config import TOKEN_ENV, resolve_registry, stored_credential
from registry.cli.errors import EXIT_AUTH, CliError

EXTENSION_PREFIX = "/v0.1/x/io.mcpindex"


@dataclass(frozen=True)
class Context:
    """Global options: `--registry` (None when not given) and `--json`."""

    registry_flag: str | None
    json: bool

    def registry(self) -> str:
        """The registry URL this command talks to."""
        return resolve_registry(self.registry_flag)

    def url(self, path: str) -> str:
        """An absolute URL for an API path on the registry."""
        return self.registry() + path

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
