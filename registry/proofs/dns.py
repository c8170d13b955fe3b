"""DNS proof: a TXT key record at the domain apex signs a timestamp."""

from __future__ import annotations

from datetime import timedelta

import dns.exception
import dns.nameserver
import dns.resolver
from django.conf import settings

from registry.auth.permissions import namespace_grants, reverse_domain
from registry.proofs.keys import (
    check_timestamp,
    parse_domain,
    parse_records,
    verify_signed_timestamp,
)
from registry.proofs.replay import proof_use_record
from registry.proofs.result import ProofError, ProofResult

METHOD = "dns"
_SELECTORS = ("_mcp-auth", "_mcp-registry")


def _nameserver(spec: str) -> dns.nameserver.Nameserver:
    """`1.2.3.4`, `1.2.3.4:5353`, `[::1]:5353` or `::1` as a Do53 nameserver."""
    host, port = spec, 53
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        port = int(rest.lstrip(":") or 53)
    elif spec.count(":") == 1:
        host, _, raw_port = spec.partition(":")
        port = int(raw_port)
    return dns.nameserver.Do53Nameserver(host, port)


def resolver() -> dns.resolver.Resolver:
    """A resolver using MCP_INDEX_PROOF_DNS_NAMESERVERS, or the system's when it is empty."""
    servers = settings.MCP_INDEX_PROOF_DNS_NAMESERVERS
    res = dns.resolver.Resolver(configure=not servers)
    if servers:
        res.nameservers = [_nameserver(s) for s in servers]
    res.lifetime = settings.MCP_INDEX_PROOF_DNS_TIMEOUT_SECONDS
    res.timeout = settings.MCP_INDEX_PROOF_DNS_TIMEOUT_SECONDS
    return res


def txt_records(name: str, *, res: dns.resolver.Resolver) -> list[str]:
    """Every TXT string at `name` (multi-string records joined), [] when there is none."""
    try:
        answer = res.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.Timeout as exc:
        raise ProofError(f"DNS lookup of TXT {name} timed out") from exc
    except dns.exception.DNSException as exc:
        raise ProofError(f"DNS lookup of TXT {name} failed: {type(exc).__name__}") from exc
    return [b"".join(rdata.strings).decode("utf-8", "replace") for rdata in answer]


def _selector_hint(domain: str, res: dns.resolver.Resolver) -> str:
    for selector in _SELECTORS:
        try:
            found = parse_records(txt_records(f"{selector}.{domain}", res=res))
        except ProofError:
            continue
        if found:
            return (
                f" (a key record was found at {selector}.{domain}; "
                f"it must be a TXT record on {domain} itself)"
            )
    return ""


def verify_dns(*, domain: str, timestamp: str, signed_timestamp: str) -> ProofResult:
    """Verify a DNS proof; grants `<reversed domain>/*` and `<reversed domain>.*`."""
    domain = parse_domain(domain)
    check_timestamp(timestamp)  # cheap, and before any network traffic
    res = resolver()
    records = parse_records(txt_records(domain, res=res))
    if not records:
        raise ProofError(f"no v=MCPv1 TXT record found on {domain}{_selector_hint(domain, res)}")
    moment = verify_signed_timestamp(
        records, timestamp=timestamp, signed_timestamp=signed_timestamp, where=f"TXT {domain}"
    )
    window = timedelta(seconds=settings.MCP_INDEX_PROOF_MAX_SKEW_SECONDS)
    proof_use_record(
        method=METHOD,
        material=f"{domain}\0{timestamp}",
        expires_at=moment + window,
    )
    return ProofResult(
        auth_method=METHOD,
        subject=domain,
        permissions=namespace_grants(reverse_domain(domain), subdomains=True),
        evidence={"domain": domain},
    )
