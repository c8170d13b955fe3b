"""OCI images: the `io.modelcontextprotocol.server.name` label, read through the registry v2 API."""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings

from registry.ownership.base import OwnershipError, PackageRef, RegistryClient, RegistryResponse

LABEL = "io.modelcontextprotocol.server.name"
_INDEX_TYPES = {
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
}
_ACCEPT = ", ".join(
    [
        *_INDEX_TYPES,
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_REPO = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_DOCKER_ALIASES = {"index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}


@dataclass(frozen=True)
class ImageRef:
    """A parsed image reference: registry host, repository and tag or digest."""

    host: str
    repository: str
    reference: str

    def __str__(self) -> str:
        sep = "@" if self.reference.startswith("sha256:") else ":"
        return f"{self.host}/{self.repository}{sep}{self.reference}"


def parse_image(ref: PackageRef) -> ImageRef:
    """`[host/]repo[:tag][@digest]`, with registryBaseUrl and version as older manifests use."""
    identifier = ref.identifier
    digest = ""
    if "@" in identifier:
        identifier, digest = identifier.split("@", 1)
    first, _, rest = identifier.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first.lower(), rest
    else:
        host = urlsplit(ref.registry_base_url).netloc.lower() or "docker.io"
        path = identifier
    tag = ""
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
    if host in _DOCKER_ALIASES:
        host = "docker.io"
    if host == "docker.io" and "/" not in path:
        path = f"library/{path}"
    reference = digest or tag or ref.version or "latest"
    if not _REPO.match(path) or not (_DIGEST.match(reference) or _TAG.match(reference)):
        raise OwnershipError(f"OCI image {ref.identifier}: not a valid image reference")
    return ImageRef(host=host, repository=path, reference=reference)


@dataclass(frozen=True)
class RegistryEndpoint:
    """Where an image host's v2 API is; `configured` when the operator wrote the whole URL
    (it may be internal), not when `{host}` was filled in from the image reference."""

    base: str
    configured: bool


def registry_endpoint(host: str) -> RegistryEndpoint:
    """The v2 API base for `host` from MCP_INDEX_OWNERSHIP_OCI_REGISTRIES (exact or `*.` rule)."""
    registries: dict[str, str] = settings.MCP_INDEX_OWNERSHIP_OCI_REGISTRIES
    for pattern, base in registries.items():
        if host == pattern or (pattern.startswith("*.") and fnmatch.fnmatch(host, pattern)):
            return RegistryEndpoint(base.replace("{host}", host).rstrip("/"), "{host}" not in base)
    allowed = ", ".join(sorted(registries))
    raise OwnershipError(f"OCI registry {host} is not allowed here (allowed: {allowed})")


class _Session:
    """One image check: remembers the bearer token obtained from the registry's challenge."""

    def __init__(self, client: RegistryClient, image: ImageRef, base: str) -> None:
        self.client = client
        self.image = image
        self.base = base
        self.authorization = ""
        creds = settings.MCP_INDEX_OWNERSHIP_OCI_AUTH.get(image.host, "")
        self.basic = "Basic " + base64.b64encode(creds.encode()).decode() if creds else ""

    def get(self, path: str, *, accept: str, what: str) -> RegistryResponse:
        url = f"{self.base}/v2/{self.image.repository}/{path}"
        headers = {"Accept": accept}
        if self.authorization:
            headers["Authorization"] = self.authorization
        response = self.client.get(url, what=what, headers=headers)
        if response.status == 401 and not self.authorization:
            self.authorization = self._authorize(response.headers.get("www-authenticate", ""))
            headers["Authorization"] = self.authorization
            response = self.client.get(url, what=what, headers=headers)
        if response.status in (401, 403):
            raise OwnershipError(f"OCI image {self.image}: the registry refused access ({what})")
        if response.status == 404:
            raise OwnershipError(f"OCI image {self.image}: {what} was not found")
        if response.status != 200:
            raise OwnershipError(f"OCI image {self.image}: {what} answered HTTP {response.status}")
        return response

    def _authorize(self, challenge: str) -> str:
        """Answer a `Bearer realm=…,service=…,scope=…` (or Basic) challenge."""
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "basic" and self.basic:
            return self.basic
        if scheme != "bearer":
            raise OwnershipError(f"OCI image {self.image}: the registry requires credentials")
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        # The realm is whatever the registry says: the client sends it through the SSRF guard
        # unless it is on the configured registry's own origin.
        realm = params.pop("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise OwnershipError(f"OCI image {self.image}: the registry sent no token realm")
        params.setdefault("scope", f"repository:{self.image.repository}:pull")
        query = urlencode({k: v for k, v in params.items() if k in ("service", "scope")})
        headers = {"Authorization": self.basic} if self.basic else {}
        url = f"{realm}{'&' if '?' in realm else '?'}{query}"
        document = self.client.get_json(url, what="a registry pull token", headers=headers)
        token = document.get("token") or document.get("access_token")
        if not isinstance(token, str) or not token:
            raise OwnershipError(f"OCI image {self.image}: the token service returned no token")
        return f"Bearer {token}"


def _json(response: RegistryResponse, image: ImageRef, what: str) -> dict[str, Any]:
    try:
        document = json.loads(response.body)
    except ValueError as exc:
        raise OwnershipError(f"OCI image {image}: {what} is not JSON") from exc
    if not isinstance(document, dict):
        raise OwnershipError(f"OCI image {image}: {what} is not a JSON object")
    return document


def _pick_manifest(index: dict[str, Any], image: ImageRef) -> str:
    """linux/amd64 if present, else the first real image (attestations are `unknown`)."""
    entries = [m for m in index.get("manifests", []) if isinstance(m, dict) and m.get("digest")]
    images = [m for m in entries if (m.get("platform") or {}).get("os") != "unknown"]
    for entry in images:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return str(entry["digest"])
    if not images:
        raise OwnershipError(f"OCI image {image}: the image index lists no image manifests")
    return str(images[0]["digest"])


def check_oci(ref: PackageRef, server_name: str) -> None:
    """The image config's `io.modelcontextprotocol.server.name` label must equal the name."""
    image = parse_image(ref)
    endpoint = registry_endpoint(image.host)
    # A base built from the image's own host name (`*.pkg.dev` → `https://{host}`) is the
    # publisher's choice, so it is guarded like the realm and redirects it sends us to.
    client = RegistryClient(label=f"OCI image {image}",
                            trusted=[endpoint.base] if endpoint.configured else [])
    session = _Session(client, image, endpoint.base)
    response = session.get(f"manifests/{image.reference}", accept=_ACCEPT, what="the manifest")
    manifest = _json(response, image, "the manifest")
    media_type = manifest.get("mediaType") or response.headers.get("content-type", "")
    if media_type.split(";")[0].strip() in _INDEX_TYPES:
        digest = _pick_manifest(manifest, image)
        response = session.get(f"manifests/{digest}", accept=_ACCEPT, what="the manifest")
        manifest = _json(response, image, "the manifest")
    config_digest = (manifest.get("config") or {}).get("digest", "")
    if not _DIGEST.match(str(config_digest)):
        raise OwnershipError(f"OCI image {image}: the manifest has no sha256 config digest")
    blob = session.get(f"blobs/{config_digest}", accept="*/*", what="the image config")
    if "sha256:" + hashlib.sha256(blob.body).hexdigest() != config_digest:
        raise OwnershipError(f"OCI image {image}: the image config does not match its digest")
    config = _json(blob, image, "the image config")
    labels = (config.get("config") or {}).get("Labels") or {}
    label = labels.get(LABEL) if isinstance(labels, dict) else None
    if label is None:
        raise OwnershipError(f'OCI image {image}: missing label {LABEL}; add LABEL {LABEL}="{server_name}"')
    if label != server_name:
        raise OwnershipError(f"OCI image {image}: label {LABEL} is {label!r}, not {server_name!r}")
