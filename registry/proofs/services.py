"""Exchanging a verified proof for a registry token."""

from __future__ import annotations

from registry import services
from registry.auth.jwt import IssuedToken, issue_token
from registry.proofs.result import ProofResult


def auth_login(*, result: ProofResult) -> IssuedToken:
    """Issue a registry JWT for a verified proof and audit the login (never the proof itself)."""
    issued = issue_token(
        auth_method=result.auth_method, subject=result.subject, permissions=result.permissions
    )
    services.audit_record(
        actor=f"{result.auth_method}:{result.subject}",
        action="registry.auth.login",
        target=result.subject,
        data={
            "method": result.auth_method,
            "permissions": [p.as_claim() for p in result.permissions],
            **dict(result.evidence),
        },
    )
    return issued
