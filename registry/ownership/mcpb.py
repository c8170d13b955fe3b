"""MCPB bundles: download the file (SSRF-guarded, size-capped) and verify its fileSha256."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings

from registry.outbound import OutboundError, guarded_get
from registry.ownership.base import OwnershipError, PackageRef

_SHA256 = re.compile(r"^[a-f0-9]{64}$")
_MAX_REDIRECTS = 5  # release downloads redirect to a CDN


def check_mcpb(ref: PackageRef, server_name: str) -> None:
    """The file at `identifier` must hash to `fileSha256` (the official registry trusts it)."""
    label = f"MCPB package {ref.identifier}"
    if not _SHA256.match(ref.file_sha256):
        raise OwnershipError(f"{label}: fileSha256 (64 lower-case hex digits) is required")
    host = (urlsplit(ref.identifier).hostname or "").lower()
    allowed = [h.lower() for h in settings.MCP_INDEX_OWNERSHIP_MCPB_HOSTS]
    if allowed and host not in allowed:
        raise OwnershipError(f"{label}: downloads are accepted from {', '.join(allowed)} only")
    limit = settings.MCP_INDEX_OWNERSHIP_MCPB_MAX_BYTES
    try:
        fetched = guarded_get(
            ref.identifier,
            max_bytes=limit,
            timeout=settings.MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS,
            max_redirects=_MAX_REDIRECTS,
            keep_body=False,
        )
    except OutboundError as exc:
        raise OwnershipError(f"{label}: could not download the file: {exc}") from exc
    if fetched.status != 200:
        raise OwnershipError(f"{label}: download answered HTTP {fetched.status}")
    if fetched.sha256 != ref.file_sha256:
        raise OwnershipError(
            f"{label}: fileSha256 is {ref.file_sha256} but the file hashes to {fetched.sha256}"
        )
