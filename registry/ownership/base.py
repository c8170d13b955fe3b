"""Shared parts of the ownership validators: the error, HTTP access to a registry, name tokens."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

MAX_METADATA_BYTES = 16 * 1024 * 1024
USER_AGENT = "mcp-index ownership check"


class OwnershipError(Exception):
    """A package whose registry entry does not prove it belongs to the server being published."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class PackageRef:
    """The fields of one `packages[]` entry that ownership checks read."""

    registry_type: str
    identifier: str
    version: str
    registry_base_url: str
    file_sha256: str

    @classmethod
    def from_manifest(cls, package: Mapping[str, Any]) -> PackageRef:
        def text(key: str) -> str:
            value = package.get(key)
            return value.strip() if isinstance(value, str) else ""

        return cls(
            registry_type=text("registryType"),
            identifier=text("identifier"),
            version=text("version"),
            registry_base_url=text("registryBaseUrl"),
            file_sha256=text("fileSha256").lower(),
        )


def name_token_found(text: str, server_name: str) -> bool:
    """True when `text` holds `mcp-name: <server_name>` followed by a boundary."""
    pattern = r"mcp-name:[ \t]*" + re.escape(server_name) + r"(?=$|\s|<|-->)"
    return re.search(pattern, text) is not None


def check_base_url(ref: PackageRef, *, label: str, configured: str, public: str) -> None:
    """A declared registryBaseUrl must be the public registry or the one this index uses."""
    declared = ref.registry_base_url.rstrip("/")
    if declared and declared not in {configured.rstrip("/"), public.rstrip("/")}:
        raise OwnershipError(
            f"{label}: registryBaseUrl {declared} is not supported; packages are checked against {configured}"
        )


@dataclass(frozen=True)
class RegistryResponse:
    """A fetched registry response (body already read, within the size cap)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class RegistryClient:
    """HTTP access to one operator-configured package registry (optional Authorization)."""

    def __init__(self, *, label: str, auth: str = "") -> None:
        self.label = label
        headers = {"User-Agent": USER_AGENT}
        if auth:
            headers["Authorization"] = auth
        # httpx drops Authorization when a redirect leaves the origin (CDN, object storage).
        self.client = httpx.Client(
            headers=headers,
            timeout=settings.MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS,
            follow_redirects=True,
            trust_env=False,
        )

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def get(self, url: str, *, what: str, headers: dict[str, str] | None = None) -> RegistryResponse:
        """GET with a size cap; network failures become OwnershipError naming `what`."""
        try:
            with self.client.stream("GET", url, headers=headers or {}) as response:
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > MAX_METADATA_BYTES:
                        raise OwnershipError(f"{self.label}: {what} is unreasonably large")
                return RegistryResponse(
                    status=response.status_code,
                    headers={k.lower(): v for k, v in response.headers.items()},
                    body=bytes(body),
                )
        except httpx.HTTPError as exc:
            raise OwnershipError(f"{self.label}: could not fetch {what} ({type(exc).__name__})") from exc

    def get_json(self, url: str, *, what: str, headers: dict[str, str] | None = None) -> Any:
        """GET a JSON document; 404 and other failures become OwnershipError."""
        response = self.get(url, what=what, headers=headers)
        if response.status == 404:
            raise OwnershipError(f"{self.label}: {what} was not found")
        if response.status != 200:
            raise OwnershipError(f"{self.label}: {what} answered HTTP {response.status}")
        try:
            return json.loads(response.body)
        except ValueError as exc:
            raise OwnershipError(f"{self.label}: {what} is not valid JSON") from exc
