"""GitHub token proof: the user's namespace, plus organisations the user owns (admin, active)."""

from __future__ import annotations

import re
from typing import Any

import httpx
from django.conf import settings

from registry.auth.permissions import namespace_grants
from registry.proofs.result import ProofError, ProofResult

METHOD = "github-at"
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_MAX_PAGES = 10


def _client(token: str) -> httpx.Client:
    return httpx.Client(
        base_url=settings.MCP_INDEX_GITHUB_API_URL.rstrip("/"),
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "mcp-index",
        },
        timeout=settings.MCP_INDEX_PROOF_FETCH_TIMEOUT_SECONDS,
        follow_redirects=False,
    )


def _get(client: httpx.Client, url: str, what: str) -> httpx.Response:
    try:
        response = client.get(url)
    except httpx.HTTPError as exc:
        raise ProofError(f"could not reach the GitHub API ({what}): {type(exc).__name__}") from exc
    if response.status_code == 401:
        raise ProofError("GitHub rejected the token (bad or expired github_token)")
    return response


def _admin_orgs(client: httpx.Client) -> list[str]:
    """Organisations where the user is an owner; [] when the token lacks read:org."""
    orgs: list[str] = []
    url: str | None = "/user/memberships/orgs?state=active&per_page=100"
    for _ in range(_MAX_PAGES):
        if url is None:
            break
        response = _get(client, url, "organisation memberships")
        if response.status_code in (403, 404):
            return orgs
        if response.status_code != 200:
            raise ProofError(f"GitHub API answered HTTP {response.status_code} for memberships")
        items: Any = response.json()
        for item in items if isinstance(items, list) else []:
            org = (item.get("organization") or {}).get("login")
            owner = item.get("role") == "admin" and item.get("state") == "active"
            if owner and isinstance(org, str) and _LOGIN.match(org):
                orgs.append(org)
        url = response.links.get("next", {}).get("url")
        if url and not url.startswith(settings.MCP_INDEX_GITHUB_API_URL.rstrip("/") + "/"):
            url = None  # never send the token anywhere but the configured API
    return orgs


def verify_github_at(*, github_token: str) -> ProofResult:
    """Check a GitHub token; grants `io.github.<login>/*` and `io.github.<owned org>/*`."""
    if not github_token or not github_token.strip():
        raise ProofError("github_token is required")
    with _client(github_token.strip()) as client:
        response = _get(client, "/user", "user")
        if response.status_code != 200:
            raise ProofError(f"GitHub API answered HTTP {response.status_code} for /user")
        login = (response.json() or {}).get("login")
        if not isinstance(login, str) or not _LOGIN.match(login):
            raise ProofError("GitHub did not return a usable login for this token")
        orgs = _admin_orgs(client)
    permissions = namespace_grants(f"io.github.{login}")
    for org in orgs:
        permissions += namespace_grants(f"io.github.{org}")
    return ProofResult(
        auth_method=METHOD,
        subject=login,
        permissions=permissions,
        evidence={"login": login, "orgs": ",".join(orgs)},
    )
