"""HTTP proof: a key record at https://<domain>/.well-known/mcp-registry-auth signs a timestamp."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from registry.auth.permissions import namespace_grants, reverse_domain
from registry.outbound import OutboundError, guarded_get
from registry.proofs.keys import (
    check_timestamp,
    parse_domain,
    parse_records,
    verify_signed_timestamp,
)
from registry.proofs.replay import proof_use_record
from registry.proofs.result import ProofError, ProofResult

METHOD = "http"


def proof_url(domain: str) -> str:
    """Where the key record of `domain` is fetched (MCP_INDEX_PROOF_HTTP_URL, `{domain}` filled)."""
    return settings.MCP_INDEX_PROOF_HTTP_URL.replace("{domain}", domain)


def fetch_key_text(domain: str) -> str:
    """The well-known key document of `domain`, fetched through the SSRF guard."""
    url = proof_url(domain)
    try:
        fetched = guarded_get(
            url,
            max_bytes=settings.MCP_INDEX_PROOF_HTTP_MAX_BYTES,
            timeout=settings.MCP_INDEX_PROOF_HTTP_TIMEOUT_SECONDS,
            # The URL template is operator-set; plain http only when they chose it.
            allow_http=url.startswith("http://"),
        )
    except OutboundError as exc:
        raise ProofError(f"could not fetch {url}: {exc}") from exc
    if fetched.status != 200:
        raise ProofError(f"{url} answered HTTP {fetched.status}, expected 200")
    try:
        return fetched.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProofError(f"{url} is not UTF-8 text") from exc


def verify_http(*, domain: str, timestamp: str, signed_timestamp: str) -> ProofResult:
    """Verify an HTTP proof; grants `<reversed domain>/*`."""
    domain = parse_domain(domain)
    check_timestamp(timestamp)  # cheap, and before any network traffic
    text = fetch_key_text(domain)
    records = parse_records([line for line in text.splitlines() if line.strip()])
    moment = verify_signed_timestamp(
        records, timestamp=timestamp, signed_timestamp=signed_timestamp, where=proof_url(domain)
    )
    window = timedelta(seconds=settings.MCP_INDEX_PROOF_MAX_SKEW_SECONDS)
    proof_use_record(
        method=METHOD,
        material=f"{domain}\0{timestamp}",
        expires_at=moment + window,
    )
    namespace = reverse_domain(domain)
    return ProofResult(
        auth_method=METHOD,
        subject=domain,
        permissions=namespace_grants(namespace),
        evidence={"domain": domain},
    )
