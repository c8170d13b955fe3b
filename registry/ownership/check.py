"""`check_ownership`: every package of a manifest must prove it belongs to the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings

from registry.ownership.base import OwnershipError, PackageRef
from registry.ownership.mcpb import check_mcpb
from registry.ownership.oci import check_oci
from registry.ownership.packages import check_cargo, check_npm, check_nuget, check_pypi

Validator = Callable[[PackageRef, str], None]

VALIDATORS: dict[str, Validator] = {
    "npm": check_npm,
    "pypi": check_pypi,
    "nuget": check_nuget,
    "oci": check_oci,
    "mcpb": check_mcpb,
    "cargo": check_cargo,
}


def check_ownership(manifest: dict[str, Any]) -> None:
    """Check each package against its registry; raise OwnershipError naming the first failure."""
    if not settings.MCP_INDEX_OWNERSHIP_CHECKS:
        return
    server_name = manifest.get("name")
    packages = manifest.get("packages") or []
    if not isinstance(server_name, str) or not isinstance(packages, list):
        return  # schema validation reports these
    skipped = {t.lower() for t in settings.MCP_INDEX_OWNERSHIP_SKIP}
    for raw in packages:
        if not isinstance(raw, dict):
            continue
        ref = PackageRef.from_manifest(raw)
        registry_type = ref.registry_type.lower()
        if registry_type in skipped:
            continue
        validator = VALIDATORS.get(registry_type)
        if validator is None:
            raise OwnershipError(
                f"package {ref.identifier}: registry type {ref.registry_type!r} is not supported "
                f"(supported: {', '.join(sorted(VALIDATORS))})"
            )
        if not ref.identifier:
            raise OwnershipError(f"a {registry_type} package has no identifier")
        validator(ref, server_name)
