"""Signing endpoints under /v0.1/x/<namespace>/: attestations and policy evaluation.

Principals, trust roots and policies themselves are in `signing.api.trust_config`.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from rest_framework.request import Request

from mcp_index_common.policy import PolicyResult
from registry.api.auth import Caller
from registry.api.errors import Problem
from registry.api.render import json_response, rfc3339
from registry.api.views import RegistryView
from signing import selectors, services
from signing.models import Attestation, TrustPolicy

# The body is {"kind", "content"}; allow some room around the content cap for the wrapper.
BODY_OVERHEAD = 1024


def _dumps(body: Any, status: int = 200) -> HttpResponse:
    return json_response(json.dumps(body, separators=(",", ":")), status=status)


def _version_or_404(name: str, version: str) -> Any:
    sv = selectors.version_lookup(name, version)
    if sv is None:
        raise Problem(404, "Server not found")
    return sv


def attestation_json(attestation: Attestation) -> dict[str, Any]:
    """One attestation with its raw content, so clients can re-verify it themselves."""
    return {
        "id": attestation.pk,
        "kind": attestation.kind,
        "state": attestation.state,
        "reason": attestation.reason or None,
        "predicateType": attestation.predicate_type or None,
        "verdict": attestation.verdict or None,
        "signer": attestation.signer or None,
        "principals": sorted(p.slug for p in attestation.principals.all()),
        "signedAt": rfc3339(attestation.signed_at) if attestation.signed_at else None,
        "submittedAt": rfc3339(attestation.created_at),
        "verifiedAt": rfc3339(attestation.verified_at) if attestation.verified_at else None,
        "content": json.loads(attestation.content),
    }


def _submitter(request: Request) -> str:
    caller = request.auth
    if isinstance(caller, Caller):
        return caller.actor
    return "ip:" + str(request.META.get("REMOTE_ADDR", "unknown"))


def _content_bytes(request: Request) -> tuple[str, bytes]:
    cap = services.attestation_max_bytes()
    if len(request.body) > cap + BODY_OVERHEAD:
        raise Problem(413, f"attestation body is {len(request.body)} bytes; the limit is {cap}")
    data = request.data
    if not isinstance(data, dict):
        raise Problem(400, "Request body must be a JSON object")
    kind, content = data.get("kind"), data.get("content")
    if not isinstance(kind, str):
        raise Problem(422, "kind is required: 'sigstore' or 'dsse'")
    if isinstance(content, dict):
        return kind, json.dumps(content, separators=(",", ":")).encode()
    if isinstance(content, str):
        return kind, content.encode()
    raise Problem(422, "content must be the bundle or envelope (a JSON object)")


class AttestationsView(RegistryView):
    """GET a version's attestations (raw bundles included); POST submits one."""

    def get(self, request: Request, name: str, version: str) -> HttpResponse:
        sv = _version_or_404(name, version)
        items = [attestation_json(a) for a in selectors.attestations_for_version(sv)]
        return _dumps(
            {
                "name": sv.name,
                "version": sv.version,
                "digest": "sha256:" + sv.digest,
                "attestations": items,
                "metadata": {"count": len(items)},
            }
        )

    def post(self, request: Request, name: str, version: str) -> HttpResponse:
        sv = _version_or_404(name, version)
        kind, content = _content_bytes(request)
        result = services.attestation_submit(
            version=sv, kind=kind, content=content, submitted_by=_submitter(request)
        )
        attestation = Attestation.objects.prefetch_related("principals").get(
            pk=result.attestation.pk
        )  # re-read: verification may already have run
        return _dumps(attestation_json(attestation), status=201 if result.created else 200)


def result_json(result: PolicyResult) -> dict[str, Any]:
    return {
        "satisfied": result.satisfied,
        "threshold": result.threshold,
        "count": result.count,
        "signers": list(result.signers),
        "ignored": [{"principal": p, "reason": r} for p, r in result.ignored],
    }


class PolicyEvaluateView(RegistryView):
    """GET policies/{slug}/evaluate?name=&version=: does this version satisfy the policy?"""

    def get(self, request: Request, slug: str) -> HttpResponse:
        name = request.query_params.get("name")
        version = request.query_params.get("version")
        if not name or not version:
            raise Problem(422, "query parameters name and version are required")
        policy = TrustPolicy.objects.prefetch_related("principals").filter(slug=slug).first()
        if policy is None:
            raise Problem(404, "Policy not found")
        sv = _version_or_404(name, version)
        result = selectors.policy_evaluate(policy=policy, version=sv)
        return _dumps(
            {
                "policy": policy.slug,
                "name": sv.name,
                "version": sv.version,
                "digest": "sha256:" + sv.digest,
                **result_json(result),
            }
        )
