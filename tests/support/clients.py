"""Real registry clients, replayed request by request: VS Code's MCP gallery and Copilot CLI.

What VS Code's `mcpGalleryService.ts` sends to the registry named by
`chat.mcp.gallery.serviceUrl`, and what it demands of the answers; what Copilot CLI sends to
check an allowlisted server. Plain httpx, so the URLs go on the wire exactly as those
clients build them (a cursor appended without URL-encoding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

PAGE_SIZE = 50
OFFICIAL = "io.modelcontextprotocol.registry/official"


def encode_uri_component(text: str) -> str:
    """JavaScript's encodeURIComponent."""
    return quote(text, safe="-_.!~*'()")


class GalleryError(AssertionError):
    """A response VS Code would refuse (and show the user as a broken gallery)."""


@dataclass(frozen=True)
class GalleryPage:
    """What VS Code keeps of one list page: the items it shows and the next cursor."""

    names: list[str]
    items: list[dict[str, Any]]
    cursor: str | None
    url: str


class VsCodeGallery:
    """VS Code's gallery against a registry base URL, one request per method."""

    def __init__(self, service_url: str) -> None:
        self.service_url = service_url.rstrip("/")
        self.api = ""
        self.requests: list[httpx.Request] = []

    def _get(self, url: str) -> httpx.Response:
        # No Authorization: VS Code runs no OAuth for a registry (modelcontextprotocol#1963).
        response = httpx.get(url, headers={"Accept": "application/json"}, timeout=20)
        self.requests.append(response.request)
        return response

    def probe(self) -> str:
        """`GET …/v0.1/servers?limit=1`, falling back to `/v0`; the API version it settles on."""
        for version in ("v0.1", "v0"):
            response = self._get(f"{self.service_url}/{version}/servers?limit=1")
            if response.status_code == 200 and isinstance(response.json().get("servers"), list):
                self.api = version
                return version
        raise GalleryError(f"no registry API at {self.service_url}: {response.status_code}")

    def _page(self, url: str) -> GalleryPage:
        response = self._get(url)
        if response.status_code != 200:
            raise GalleryError(f"{url} answered {response.status_code}: {response.text[:200]}")
        body = response.json()
        kept: list[dict[str, Any]] = []
        for index, item in enumerate(body["servers"]):
            server = item.get("server") or {}
            if not all(isinstance(server.get(k), str) and server.get(k)
                       for k in ("name", "description", "version")):
                if index == 0:  # VS Code fails the whole page on a bad first item
                    raise GalleryError(f"first item of {url} lacks name, description or version")
                continue  # and skips any other such item
            kept.append(item)
        cursor = (body.get("metadata") or {}).get("nextCursor")
        return GalleryPage([i["server"]["name"] for i in kept], kept, cursor, url)

    def first_page(self, search: str | None = None) -> GalleryPage:
        """`servers?limit=50&version=latest` (with `&search=` when the user typed something)."""
        url = f"{self.service_url}/{self.api}/servers?limit={PAGE_SIZE}&version=latest"
        if search:
            url += f"&search={encode_uri_component(search)}"
        return self._page(url)

    def next_page(self, cursor: str) -> GalleryPage:
        """The next page: the plain list URL (the search dropped) with the cursor appended
        as it came, not URL-encoded."""
        return self._page(
            f"{self.service_url}/{self.api}/servers?limit={PAGE_SIZE}&version=latest&cursor={cursor}")

    def get_server(self, name: str) -> dict[str, Any] | None:
        """An installed server's latest version; None on 404 (VS Code: not in the gallery)."""
        response = self._get(f"{self.service_url}/{self.api}/servers/"
                             f"{encode_uri_component(name)}/versions/latest")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise GalleryError(f"lookup of {name} answered {response.status_code}")
        item: dict[str, Any] = response.json()
        if item["server"]["name"] != name:
            raise GalleryError(f"asked for {name}, got {item['server']['name']}")
        return item


def copilot_cli_lookup(registry_url: str, name: str) -> httpx.Response:
    """Copilot CLI's allowlist check: `GET {registry}/v0.1/servers/{name}/versions/latest`,
    `Accept: application/json` and no Authorization header (copilot-cli #3772)."""
    return httpx.get(f"{registry_url.rstrip('/')}/v0.1/servers/{encode_uri_component(name)}"
                     "/versions/latest", headers={"Accept": "application/json"}, timeout=20)
