"""POST /auth/{http,dns,github-oidc,oidc,github-at}: thin views exchanging proofs for tokens."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.core.validators import RegexValidator
from django.http import HttpResponse
from rest_framework import serializers
from rest_framework.request import Request

from registry.api.errors import Problem
from registry.api.render import json_response
from registry.api.views import RegistryView
from registry.proofs.dns import verify_dns
from registry.proofs.github_at import verify_github_at
from registry.proofs.github_oidc import github_oidc_audiences, verify_github_oidc
from registry.proofs.http import verify_http
from registry.proofs.oidc import verify_oidc
from registry.proofs.result import ProofError, ProofResult
from registry.proofs.services import auth_login

_TOKEN_MAX = 16 * 1024


class SignedTimestampSerializer(serializers.Serializer):
    """`{"domain","timestamp","signed_timestamp"}` as mcp-publisher sends it."""

    domain = serializers.CharField(max_length=253, trim_whitespace=True)
    timestamp = serializers.CharField(max_length=64, trim_whitespace=False)
    signed_timestamp = serializers.CharField(max_length=512)


class OidcTokenSerializer(serializers.Serializer):
    """`{"oidc_token"}`."""

    oidc_token = serializers.CharField(max_length=_TOKEN_MAX)


class GitHubTokenSerializer(serializers.Serializer):
    """`{"github_token"}`: printable ASCII (it is sent on as an HTTP header)."""

    github_token = serializers.CharField(max_length=1024, validators=[RegexValidator(
        r"^[\x21-\x7e]+\Z", "github_token must be printable ASCII without spaces")])


class ProofLoginView(RegistryView):
    """Validate the body, verify the proof, answer `{"registry_token","expires_at"}`."""

    authentication_classes: list[type] = []
    serializer_class: ClassVar[type[serializers.Serializer]]

    def verify(self, request: Request, data: dict[str, Any]) -> ProofResult:
        raise NotImplementedError

    def post(self, request: Request) -> HttpResponse:
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            result = self.verify(request, dict(serializer.validated_data))
        except ProofError as exc:
            raise Problem(401, f"Authentication failed: {exc.reason}") from exc
        return json_response(json.dumps(auth_login(result=result).as_response()))


class HttpAuthView(ProofLoginView):
    """POST /auth/http: key record at https://<domain>/.well-known/mcp-registry-auth."""

    serializer_class = SignedTimestampSerializer

    def verify(self, request: Request, data: dict[str, Any]) -> ProofResult:
        return verify_http(**data)


class DnsAuthView(ProofLoginView):
    """POST /auth/dns: key record in a TXT record at the domain apex."""

    serializer_class = SignedTimestampSerializer

    def verify(self, request: Request, data: dict[str, Any]) -> ProofResult:
        return verify_dns(**data)


class GitHubOidcAuthView(ProofLoginView):
    """POST /auth/github-oidc: a GitHub Actions ID token."""

    serializer_class = OidcTokenSerializer

    def verify(self, request: Request, data: dict[str, Any]) -> ProofResult:
        origin = request.build_absolute_uri("/").rstrip("/")
        return verify_github_oidc(
            oidc_token=data["oidc_token"], audiences=github_oidc_audiences(origin=origin)
        )


class OidcAuthView(ProofLoginView):
    """POST /auth/oidc: an ID token from a provider configured in MCP_INDEX_OIDC_PROVIDERS."""

    serializer_class = OidcTokenSerializer

    def verify(self, request: Request, data: dict[str, Any]) -> ProofResult:
        return verify_oidc(oidc_token=data["oidc_token"])


class GitHubTokenAuthView(ProofLoginView):
    """POST /auth/github-at: a GitHub access token checked against the GitHub API."""

    serializer_class = GitHubTokenSerializer

    def verify(self, request: Request, data: dict[str, Any]) -> ProofResult:
        return verify_github_at(github_token=data["github_token"])
