"""JSON shapes of principals, trust roots and trust policies in the extension API."""

from __future__ import annotations

import json
from typing import Any

from registry.api.render import rfc3339
from signing.models import Principal, TrustPolicy, TrustRoot


def principal_json(principal: Principal) -> dict[str, Any]:
    """A principal as a policy file lists it (public identities and keys only)."""
    body: dict[str, Any] = {
        "id": principal.slug,
        "displayName": principal.display_name,
        "kind": principal.kind,
        "expiresAt": rfc3339(principal.expires_at) if principal.expires_at else None,
    }
    if principal.kind == Principal.KEY:
        body.update(publicKey=principal.public_key_pem, keyid=principal.keyid)
    else:
        body["sigstore"] = {
            "issuer": principal.oidc_issuer,
            "subject": principal.subject,
            "pattern": principal.subject_is_pattern,
            "trustRoot": principal.trust_root.slug if principal.trust_root else None,
        }
    return body


def _trusted_root(root: TrustRoot) -> Any:
    return None if root.kind == TrustRoot.PRODUCTION else json.loads(root.trusted_root_json)


def trust_root_json(root: TrustRoot) -> dict[str, Any]:
    """A trust root with its trusted_root.json (None for the embedded production root)."""
    return {
        "id": root.slug,
        "name": root.name,
        "kind": root.kind,
        "active": root.is_active,
        "trustedRoot": _trusted_root(root),
        "principals": sorted(p.slug for p in root.principals.all()),
        "createdAt": rfc3339(root.created_at),
        "updatedAt": rfc3339(root.updated_at),
    }


def _policy_root_json(root: TrustRoot) -> Any:
    return "production" if root.kind == TrustRoot.PRODUCTION else json.loads(root.trusted_root_json)


def policy_json(policy: TrustPolicy) -> dict[str, Any]:
    """A policy in the same format `mcp-index verify --policy` reads (roots inline)."""
    principals = list(policy.principals.all())
    roots = {
        p.trust_root.slug: _policy_root_json(p.trust_root) for p in principals if p.trust_root is not None
    }
    return {
        "id": policy.slug,
        "title": policy.title,
        "threshold": policy.threshold,
        "predicateTypes": policy.predicate_types,
        "verdicts": policy.verdicts,
        "trustRoots": roots,
        "principals": [principal_json(p) for p in principals],
    }
