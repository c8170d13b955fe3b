"""Generic OIDC proof: providers from MCP_INDEX_OIDC_PROVIDERS map token claims to name patterns.

Each provider is a JSON object::

    {"issuer": "https://gitlab.com", "audience": "https://index.example.com",
     "required_claims": {"namespace_path": ["acme", "acme-labs"]},
     "grants": [{"action": "publish", "pattern": "com.gitlab.{namespace_path}/*"}],
     "subject_claim": "sub"}

`audience` may be a list; a required claim is a value or a list of accepted values; a
`{claim}` in a pattern is replaced by that claim's value, which must be one DNS-ish segment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from registry.auth.permissions import ACTIONS, Permission
from registry.proofs.jwks import unverified_issuer, verify_id_token
from registry.proofs.result import ProofError, ProofResult

METHOD = "oidc"
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.:-]+)\}")
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Grant:
    """One permission template: an action and a pattern that may hold `{claim}` placeholders."""

    action: str
    pattern: str


@dataclass(frozen=True)
class OidcProvider:
    """A configured identity provider trusted for `/auth/oidc`."""

    issuer: str
    audiences: tuple[str, ...]
    required_claims: tuple[tuple[str, tuple[Any, ...]], ...]
    grants: tuple[Grant, ...]
    subject_claim: str = "sub"


def _provider(raw: Any) -> OidcProvider:
    if not isinstance(raw, dict) or not isinstance(raw.get("issuer"), str):
        raise ImproperlyConfigured("MCP_INDEX_OIDC_PROVIDERS: each provider needs an issuer")
    audience = raw.get("audience") or []
    audiences = (audience,) if isinstance(audience, str) else tuple(audience)
    required = []
    for claim, value in (raw.get("required_claims") or {}).items():
        required.append((claim, tuple(value) if isinstance(value, list) else (value,)))
    grants = []
    for item in raw.get("grants") or []:
        action = item.get("action", "publish")
        if action not in ACTIONS or not isinstance(item.get("pattern"), str):
            raise ImproperlyConfigured(f"MCP_INDEX_OIDC_PROVIDERS: bad grant {item!r}")
        grants.append(Grant(action=action, pattern=item["pattern"]))
    if not audiences or not grants:
        raise ImproperlyConfigured(f"MCP_INDEX_OIDC_PROVIDERS: {raw['issuer']} needs an audience and grants")
    return OidcProvider(
        issuer=raw["issuer"],
        audiences=audiences,
        required_claims=tuple(required),
        grants=tuple(grants),
        subject_claim=str(raw.get("subject_claim", "sub")),
    )


def providers() -> list[OidcProvider]:
    """The configured providers (parsed on each call, so settings overrides apply)."""
    return [_provider(raw) for raw in settings.MCP_INDEX_OIDC_PROVIDERS]


def _fill(pattern: str, claims: dict[str, Any]) -> str:
    def replace(match: re.Match[str]) -> str:
        value = claims.get(match.group(1))
        if not isinstance(value, str | int) or not _SAFE_VALUE.match(str(value)):
            raise ProofError(f"claim {match.group(1)!r} cannot be used in a name pattern")
        return str(value)

    return _PLACEHOLDER.sub(replace, pattern)


def verify_oidc(*, oidc_token: str) -> ProofResult:
    """Verify a token from a configured provider; grants that provider's mapped patterns."""
    configured = providers()
    if not configured:
        raise ProofError("OIDC login is not enabled on this registry")
    issuer = unverified_issuer(oidc_token)
    provider = next((p for p in configured if p.issuer.rstrip("/") == issuer.rstrip("/")), None)
    if provider is None:
        raise ProofError(f"issuer {issuer} is not trusted by this registry")
    claims = verify_id_token(oidc_token, issuer=provider.issuer, audiences=provider.audiences, method=METHOD)
    for claim, accepted in provider.required_claims:
        if claims.get(claim) not in accepted:
            raise ProofError(f"oidc_token claim {claim!r} does not have a required value")
    permissions = [Permission(g.action, _fill(g.pattern, claims)) for g in provider.grants]
    subject = str(claims.get(provider.subject_claim, ""))
    return ProofResult(
        auth_method=METHOD,
        subject=subject,
        permissions=permissions,
        evidence={"issuer": provider.issuer, "sub": str(claims.get("sub", ""))},
    )
