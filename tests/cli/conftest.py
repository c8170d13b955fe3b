"""Fixtures: an isolated config directory, a fake registry on loopback, an in-process CLI.

The loopback servers of the login tests (proof host, DNS responder, OIDC issuer, fake npm)
are the root conftest's fixtures, shared with the proof and ownership tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.cli import FakeRegistry, Run, RunningServer, cli_runner, isolated_config


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point XDG_CONFIG_HOME at a fresh directory and clear the CLI's env variables."""
    return isolated_config(tmp_path, monkeypatch)


@pytest.fixture
def fake() -> Iterator[FakeRegistry]:
    """A running fake registry; set answers with `fake.on(...)`."""
    registry = FakeRegistry()
    with RunningServer(registry):
        yield registry


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run `mcp-index ARGS...` in-process and capture its exit code and output."""
    return cli_runner(capsys)


@pytest.fixture
def credentials(config_home: Path) -> Path:
    """Where the CLI stores tokens under the test's XDG_CONFIG_HOME."""
    return config_home / "mcp-index" / "credentials.json"


@pytest.fixture
def logged_in(fake: FakeRegistry, cli: Callable[..., Run]) -> str:
    """Log in to the fake registry with `login token`; returns the stored token."""
    result = cli("--registry", fake.url, "login", "token", "--token", "stored-token")
    assert result.code == 0, result.err
    return "stored-token"
