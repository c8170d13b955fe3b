"""The fuzz suite's live server handle, and name resolution that stays on loopback."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from tests.fuzz.seed import Seeded, empty_database, seed

_real_getaddrinfo = socket.getaddrinfo


def loopback_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    """Resolve only loopback names: a fuzzed domain must not become a DNS query."""
    name = host.decode() if isinstance(host, bytes) else str(host or "")
    if name in ("localhost", "::1") or name.startswith("127."):
        return _real_getaddrinfo(host, *args, **kwargs)
    raise socket.gaierror(socket.EAI_NONAME, f"fuzz: {name!r} does not resolve off loopback")


@dataclass
class FuzzServer:
    url: str
    admin_token: str
    current: Seeded | None = None  # what the database holds, while no test has written

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def reset(self) -> Seeded:
        """The seeded database: emptied and seeded again unless no test wrote since."""
        if self.current is None:
            empty_database()
            self.current = seed()
        return self.current
