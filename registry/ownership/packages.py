"""Ownership checks against language package registries: npm, PyPI, NuGet and crates.io."""

from __future__ import annotations

import re
from urllib.parse import quote

from django.conf import settings

from registry.ownership.base import (
    OwnershipError,
    PackageRef,
    RegistryClient,
    check_base_url,
    name_token_found,
)

NPM_PUBLIC = "https://registry.npmjs.org"
PYPI_PUBLIC = "https://pypi.org"
NUGET_PUBLIC = "https://api.nuget.org/v3/index.json"
CARGO_PUBLIC = "https://crates.io"
_NPM_NAME = re.compile(r"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$", re.IGNORECASE)
_SIMPLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_README_TYPE = "ReadmeUriTemplate/6.13.0"


def _require(ref: PackageRef, label: str, pattern: re.Pattern[str]) -> None:
    if not pattern.match(ref.identifier):
        raise OwnershipError(f"{label}: {ref.identifier!r} is not a valid package name")
    if not ref.version:
        raise OwnershipError(f"{label}: a package version is required to check ownership")


def _token_hint(server_name: str) -> str:
    return f"'mcp-name: {server_name}'"


def check_npm(ref: PackageRef, server_name: str) -> None:
    """npm: that version's package.json must have `mcpName` equal to the server name."""
    label = f"npm package {ref.identifier}@{ref.version}"
    _require(ref, label, _NPM_NAME)
    base = settings.MCP_INDEX_OWNERSHIP_NPM_URL.rstrip("/")
    check_base_url(ref, label=label, configured=base, public=NPM_PUBLIC)
    url = f"{base}/{quote(ref.identifier, safe='@')}/{quote(ref.version, safe='')}"
    client = RegistryClient(label=label, auth=settings.MCP_INDEX_OWNERSHIP_NPM_AUTH, trusted=[base])
    document = client.get_json(url, what=f"the package version at {base}")
    declared = document.get("mcpName") if isinstance(document, dict) else None
    if declared is None:
        raise OwnershipError(f'{label}: package.json has no mcpName; add "mcpName": "{server_name}"')
    if declared != server_name:
        raise OwnershipError(f"{label}: mcpName is {declared!r}, not {server_name!r}")


def check_pypi(ref: PackageRef, server_name: str) -> None:
    """PyPI: the project description must contain `mcp-name: <server name>`."""
    label = f"PyPI package {ref.identifier}=={ref.version}"
    _require(ref, label, _SIMPLE_NAME)
    base = settings.MCP_INDEX_OWNERSHIP_PYPI_URL.rstrip("/")
    check_base_url(ref, label=label, configured=base, public=PYPI_PUBLIC)
    url = f"{base}/pypi/{quote(ref.identifier, safe='')}/{quote(ref.version, safe='')}/json"
    client = RegistryClient(label=label, auth=settings.MCP_INDEX_OWNERSHIP_PYPI_AUTH, trusted=[base])
    document = client.get_json(url, what=f"the release at {base}")
    info = document.get("info") if isinstance(document, dict) else None
    description = info.get("description") if isinstance(info, dict) else None
    if not isinstance(description, str) or not name_token_found(description, server_name):
        raise OwnershipError(
            f"{label}: the project description (README) does not contain {_token_hint(server_name)}"
        )


def check_nuget(ref: PackageRef, server_name: str) -> None:
    """NuGet: the package README (via the service index) must contain the name token."""
    label = f"NuGet package {ref.identifier} {ref.version}"
    _require(ref, label, _SIMPLE_NAME)
    index_url = settings.MCP_INDEX_OWNERSHIP_NUGET_URL
    check_base_url(ref, label=label, configured=index_url, public=NUGET_PUBLIC)
    client = RegistryClient(label=label, auth=settings.MCP_INDEX_OWNERSHIP_NUGET_AUTH,
                            trusted=[index_url])
    index = client.get_json(index_url, what="the NuGet service index")
    resources = index.get("resources", []) if isinstance(index, dict) else []
    template = next(
        (
            r.get("@id")
            for r in resources
            if isinstance(r, dict) and str(r.get("@type", "")).startswith(_README_TYPE)
        ),
        None,
    )
    if not isinstance(template, str):
        raise OwnershipError(f"{label}: the NuGet service index offers no README resource")
    url = template.replace("{lower_id}", quote(ref.identifier.lower(), safe="")).replace(
        "{lower_version}", quote(ref.version.lower(), safe="")
    )
    # The README may live on another host the index names: reached through the SSRF guard.
    response = client.get(url, what="the package README")
    if response.status == 404:
        raise OwnershipError(f"{label}: has no README; it must contain {_token_hint(server_name)}")
    if response.status != 200:
        raise OwnershipError(f"{label}: the README answered HTTP {response.status}")
    if not name_token_found(response.text, server_name):
        raise OwnershipError(f"{label}: the README does not contain {_token_hint(server_name)}")


def check_cargo(ref: PackageRef, server_name: str) -> None:
    """crates.io: the crate version's rendered README must contain the name token."""
    label = f"crate {ref.identifier} {ref.version}"
    _require(ref, label, _SIMPLE_NAME)
    base = settings.MCP_INDEX_OWNERSHIP_CARGO_URL.rstrip("/")
    check_base_url(ref, label=label, configured=base, public=CARGO_PUBLIC)
    url = f"{base}/api/v1/crates/{quote(ref.identifier, safe='')}/{quote(ref.version, safe='')}/readme"
    client = RegistryClient(label=label, auth=settings.MCP_INDEX_OWNERSHIP_CARGO_AUTH, trusted=[base])
    response = client.get(url, what="the crate README")
    if response.status in (403, 404):
        raise OwnershipError(f"{label}: no README was found; it must contain {_token_hint(server_name)}")
    if response.status != 200:
        raise OwnershipError(f"{label}: the README answered HTTP {response.status}")
    # crates.io strips HTML comments when rendering, so the token must be visible text.
    if not name_token_found(response.text, server_name):
        raise OwnershipError(f"{label}: the README does not contain {_token_hint(server_name)}")
