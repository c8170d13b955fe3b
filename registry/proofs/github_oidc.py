"""GitHub Actions OIDC proof: a workflow's ID token grants its repository owner's namespace."""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.conf import settings

from registry.auth.permissions import namespace_grants
from registry.proofs.jwks import verify_id_token
from registry.proofs.result import ProofError, ProofResult

METHOD = "github-oidc"
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")


def github_oidc_audiences(*, origin: str) -> list[str]:
    """Accepted `aud` values: MCP_INDEX_GITHUB_OIDC_AUDIENCE, else this registry's origin."""
    return list(settings.MCP_INDEX_GITHUB_OIDC_AUDIENCE) or [origin]


def verify_github_oidc(*, oidc_token: str, audiences: Iterable[str]) -> ProofResult:
    """Verify a GitHub Actions ID token; grants `io.github.<repository_owner>/*`."""
    issuer = settings.MCP_INDEX_GITHUB_OIDC_ISSUER
    claims = verify_id_token(oidc_token, issuer=issuer, audiences=audiences, method=METHOD)
    owner = claims.get("repository_owner")
    if not isinstance(owner, str) or not _OWNER.match(owner):
        raise ProofError("oidc_token has no usable repository_owner claim")
    evidence: dict[str, str] = {
        k: str(claims[k]) for k in ("sub", "repository", "workflow_ref", "ref", "run_id") if k in claims
    }
    return ProofResult(
        auth_method=METHOD,
        subject=owner,
        permissions=namespace_grants(f"io.github.{owner}"),
        evidence=evidence,
    )
