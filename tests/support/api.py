"""A thin JSON client over Django's test client, optionally holding a bearer token."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


class Api:
    """A thin JSON client over Django's test client with an optional bearer token."""

    def __init__(self, client: Client, prefix: str = "/v0") -> None:
        self.client = client
        self.prefix = prefix
        self.token: str | None = None

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out = dict(headers or {})
        if self.token and "Authorization" not in out:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(self.prefix + path, params, headers=self._headers(None))

    def send(self, method: str, path: str, body: Any = None, *, raw: str | bytes | None = None,
             headers: dict[str, str] | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body)
        fn = getattr(self.client, method.lower())
        return fn(self.prefix + path, data=data, content_type="application/json",
                  headers=self._headers(headers))

    def publish(self, doc: dict[str, Any], **kw: Any) -> Any:
        return self.send("POST", "/publish", doc, **kw)
