"""The layout holds: no lower layer imports an upper one, and no source file passes 600 lines.

DESIGN.md ("Layout") names the layers; this test reads every import statement (module level,
inside functions and under TYPE_CHECKING alike) so the picture cannot drift.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("config", "ops", "registry", "signing", "curation", "discovery", "serving", "web",
        "apidocs")
ALL_PROJECT = {*APPS, "mcp_index_common", "mcp_index_cli", "bench", "tests"}
DJANGO = {"django", "rest_framework", "celery", "mozilla_django_oidc", "whitenoise"}

# package -> top-level packages it must never import.
FORBIDDEN: dict[str, set[str]] = {
    "mcp_index_common": DJANGO | ALL_PROJECT,
    "mcp_index_cli": DJANGO | (ALL_PROJECT - {"mcp_index_common"}),
    # ops is cross-cutting infrastructure below the domains (DESIGN.md draws it so): the
    # domains register hooks into it and bump cache generations; it imports no app.
    "ops": {"registry", "signing", "curation", "discovery", "serving", "web", "mcp_index_cli", "bench"},
    "registry": {"signing", "curation", "discovery", "serving", "web", "mcp_index_cli", "bench"},
    "signing": {"curation", "discovery", "serving", "web", "mcp_index_cli", "bench"},
    "curation": {"discovery", "serving", "web", "mcp_index_cli", "bench"},
    "discovery": {"serving", "web", "mcp_index_cli", "bench"},
    "serving": {"web", "mcp_index_cli", "bench"},
    "web": {"mcp_index_cli", "bench"},
    # The API document describes every app's routes and imports none of them.
    "apidocs": {"ops", "registry", "signing", "curation", "discovery", "serving", "web",
                "mcp_index_cli", "bench"},
}
MAX_LINES = 600


def imported_packages(source: str, module: str) -> set[tuple[str, int]]:
    """(top-level package, line) of every import in `source`, relative ones resolved."""
    found: set[tuple[str, int]] = set()
    package_parts = module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {(alias.name.split(".")[0], node.lineno) for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[: len(package_parts) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add((target.split(".")[0], node.lineno))
    return found


def python_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if ".venv" not in p.parts)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package: str) -> None:
    files = python_files(package)
    assert files, f"{package}/ has no Python files: the layout changed, update this test"
    offences = [f"{path.relative_to(ROOT)}:{line} imports {top}"
                for path in files
                for top, line in sorted(imported_packages(path.read_text(encoding="utf-8"),
                                                          module_name(path)))
                if top in FORBIDDEN[package] and top != package]
    assert offences == []


def test_the_import_check_sees_every_form() -> None:
    source = ("import curation.models\nfrom signing import x\n"
              "def f():\n    from serving.reader import r\n"
              "if TYPE_CHECKING:\n    import web\n")
    tops = {top for top, _ in imported_packages(source, "registry.services")}
    assert {"curation", "signing", "serving", "web"} <= tops
    assert ("registry", 1) in imported_packages("from . import models\n", "registry.services")
    assert ("registry", 1) in imported_packages("from ..models import X\n", "registry.api.views")


def test_no_source_file_over_600_lines() -> None:
    too_long = []
    for package in sorted(ALL_PROJECT):
        for path in python_files(package) if (ROOT / package).is_dir() else []:
            lines = path.read_text(encoding="utf-8").count("\n")
            if lines > MAX_LINES and "migrations" not in path.parts:
                too_long.append(f"{path.relative_to(ROOT)}: {lines} lines")
    assert too_long == []
