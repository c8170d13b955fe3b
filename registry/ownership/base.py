"""Shared parts of the ownership validators: the error, HTTP access to a registry, name tokens."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from registry.outbound import OutboundError, guarded_get, origin

MAX_METADATA_BYTES = 16 * 1024 * 1024
MAX_REDIRECTS = 5  # crates.io READMEs and image blobs redirect to a CDN
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
    """HTTP access to one operator-configured package registry (optional Authorization).

    The configured endpoint (`trusted`: its URLs, e.g. an internal mirror) is reached as
    given. Every other URL a registry sends us to (a token realm, a redirect to a CDN, a
    README template) goes through the SSRF guard hop by hop, and gets no Authorization
    unless the caller passes one for it.
    """

    def __init__(self, *, label: str, auth: str = "", trusted: Iterable[str] = ()) -> None:
        self.label = label
        self.headers = {"User-Agent": USER_AGENT}
        if auth:
            self.headers["Authorization"] = auth
        self.trusted = frozenset(origin(url) for url in trusted)

    def get(self, url: str, *, what: str, headers: dict[str, str] | None = None) -> RegistryResponse:
        """GET with a size cap; refusals and network failures become OwnershipError naming `what`."""
        sent = dict(self.headers)
        if origin(url) not in self.trusted:
            sent.pop("Authorization", None)  # the configured credential is for that endpoint only
        sent.update(headers or {})
        try:
            fetched = guarded_get(url, max_bytes=MAX_METADATA_BYTES, headers=sent,
                                  timeout=settings.MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS,
                                  max_redirects=MAX_REDIRECTS, trusted_origins=self.trusted)
        except OutboundError as exc:
            raise OwnershipError(f"{self.label}: could not fetch {what}: {exc}") from exc
        return RegistryResponse(status=fetched.status, headers=fetched.headers, body=fetched.body)

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
