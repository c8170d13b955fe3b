"""init: drafting server.json from package.json / pyproject.toml and the git remote."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mcp_index_common.validation import validate_manifest

SCHEMA = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(directory: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(directory), *args], check=True, capture_output=True)


@needs_git
def test_init_from_package_json_in_a_monorepo_subfolder(cli, tmp_path, monkeypatch):
    git(tmp_path, "init", "-q")
    git(tmp_path, "remote", "add", "origin", "git@github.com:acme/servers.git")
    project = tmp_path / "packages" / "weather"
    project.mkdir(parents=True)
    (project / "package.json").write_text(json.dumps({
        "name": "@acme/weather-mcp", "version": "1.4.0", "description": "Weather for agents",
        "mcpName": "io.github.acme/weather",
        "repository": {"type": "git", "url": "git+https://github.com/elsewhere/ignored.git"}}))
    monkeypatch.chdir(project)
    result = cli("init")
    assert result.code == 0, result.err
    written = json.loads((project / "server.json").read_text())
    assert written == {
        "$schema": SCHEMA,
        "name": "io.github.acme/weather",
        "description": "Weather for agents",
        "version": "1.4.0",
        "repository": {"url": "https://github.com/acme/servers", "source": "github",
                       "subfolder": "packages/weather"},
        "packages": [{"registryType": "npm", "identifier": "@acme/weather-mcp",
                      "version": "1.4.0", "transport": {"type": "stdio"}}],
    }
    assert validate_manifest(written).valid
    assert "mcpName" not in result.err  # already set, nothing to add


def test_init_from_pyproject_uses_project_urls_and_explains_mcp_name(cli, tmp_path,
                                                                    monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "weather-mcp"\nversion = "0.3.1"\n'
        'description = "Forecasts over MCP"\n'
        '[project.urls]\nHomepage = "https://weather.example.com"\n'
        'Source = "https://gitlab.com/acme/weather-mcp.git"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    result = cli("--json", "init", "--name", "com.acme/weather")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    written = json.loads((tmp_path / "server.json").read_text())
    assert data["server"] == written
    assert written["name"] == "com.acme/weather"
    assert written["repository"] == {"url": "https://gitlab.com/acme/weather-mcp",
                                     "source": "gitlab"}
    assert written["packages"] == [{"registryType": "pypi", "identifier": "weather-mcp",
                                    "version": "0.3.1", "transport": {"type": "stdio"}}]
    assert any("mcp-name: com.acme/weather" in n for n in data["notes"])
    assert validate_manifest(written).valid


@needs_git
def test_init_derives_a_github_name_and_strips_remote_credentials(cli, tmp_path, monkeypatch):
    git(tmp_path, "init", "-q")
    git(tmp_path, "remote", "add", "origin",
        "https://x-access-token:ghs_secret@github.com/Acme/weather-mcp.git")
    (tmp_path / "package.json").write_text(json.dumps({"name": "@acme/weather-mcp",
                                                       "version": "2.0.0"}))
    monkeypatch.chdir(tmp_path)
    result = cli("init")
    assert result.code == 0, result.err
    text = (tmp_path / "server.json").read_text()
    assert "ghs_secret" not in text
    written = json.loads(text)
    assert written["name"] == "io.github.Acme/weather-mcp"
    assert written["repository"] == {"url": "https://github.com/Acme/weather-mcp",
                                     "source": "github"}
    assert '"mcpName": "io.github.Acme/weather-mcp"' in result.err


def test_init_refuses_to_overwrite_without_force(cli, tmp_path, monkeypatch):
    (tmp_path / "package.json").write_text(json.dumps({"name": "x", "version": "1.0.0"}))
    (tmp_path / "server.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    refused = cli("init")
    assert refused.code == 1
    assert "--force" in refused.err
    assert (tmp_path / "server.json").read_text() == "{}"
    assert cli("init", "--force").code == 0
    assert json.loads((tmp_path / "server.json").read_text())["version"] == "1.0.0"


def test_init_in_an_empty_directory_writes_a_template_to_edit(cli, tmp_path, monkeypatch):
    directory = tmp_path / "my-server"
    directory.mkdir()
    monkeypatch.chdir(directory)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    result = cli("init")
    assert result.code == 0, result.err
    written = json.loads((directory / "server.json").read_text())
    assert written["name"] == "com.example/my-server"
    assert "packages" not in written
    assert "namespace you can prove" in result.err
    assert "add \"packages\"" in result.err


def test_long_descriptions_are_cut_to_the_schema_limit(cli, tmp_path, monkeypatch):
    (tmp_path / "package.json").write_text(json.dumps({
        "name": "x", "version": "1.0.0", "description": "word " * 40, "mcpName": "com.example/long"}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert cli("init").code == 0
    written = json.loads((tmp_path / "server.json").read_text())
    assert len(written["description"]) <= 100
    assert validate_manifest(written).valid
