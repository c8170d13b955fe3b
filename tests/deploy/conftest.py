"""Fixtures for the deployment tests: compose as the operator sees it, a database migrated by
compose's own command, the Dockerfile's collectstatic output (helpers: tests/support/deploy.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.database import throwaway_database
from tests.support.deploy import COMPOSE_SHELL, DEPLOY, ROOT, app_env, interpolate, load_compose, run_migrate


@pytest.fixture(scope="session")
def compose() -> dict[str, Any]:
    """deploy/compose.yaml as compose sees it with COMPOSE_SHELL exported."""
    return interpolate(load_compose(), COMPOSE_SHELL)


@pytest.fixture(scope="module")
def migrated_db(compose: dict[str, Any]) -> Iterator[str]:
    """A throwaway database migrated by compose's `migrate` command."""
    with throwaway_database() as name:
        result = run_migrate(compose, name)
        assert result.returncode == 0, result.stdout + result.stderr
        yield name


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Dockerfile's collectstatic step, run as written, into a temporary STATIC_ROOT."""
    dockerfile = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    (command,) = [line.strip()[len("RUN "):] for line in dockerfile.splitlines()
                  if line.strip().startswith("RUN ") and "collectstatic" in line]
    root = tmp_path_factory.mktemp("static")
    env = app_env({}, DJANGO_SETTINGS_MODULE="tests.deploy.static_settings",
                  MCP_INDEX_TEST_STATIC_ROOT=str(root))
    env.pop("PYTHONDONTWRITEBYTECODE")
    result = subprocess.run(command, shell=True, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return root
