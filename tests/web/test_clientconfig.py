"""The configuration generator: pure functions over server.json documents."""

from __future__ import annotations

import json
import shlex
from typing import Any

import pytest

from mcp_index_common import clientconfig as cc
from tests.support.data import EXAMPLES, SHARED, load_json


def only(manifest: dict[str, Any]) -> cc.Launch:
    launches = cc.launches(manifest)
    assert len(launches) == 1
    return launches[0]


NPM_SECRET = {
    "name": "io.github.acme/brave-search", "version": "1.0.2",
    "packages": [{
        "registryType": "npm", "identifier": "@acme/server-brave-search", "version": "1.0.2",
        "transport": {"type": "stdio"},
        "environmentVariables": [
            {"name": "BRAVE_API_KEY", "description": "Brave key", "isRequired": True, "isSecret": True},
            {"name": "LOG_LEVEL", "default": "info"},
        ],
    }],
}


def test_npm_with_secret_for_every_client() -> None:
    configs = cc.configs_for(only(NPM_SECRET))
    desktop = json.loads(configs.claude_desktop)
    assert desktop == {"mcpServers": {"brave-search": {
        "command": "npx", "args": ["-y", "@acme/server-brave-search@1.0.2"],
        "env": {"BRAVE_API_KEY": "<YOUR_BRAVE_API_KEY>"}}}}
    assert json.loads(configs.cursor) == desktop  # Cursor reads the same mcpServers shape
    vscode = json.loads(configs.vscode)
    assert vscode["servers"]["brave-search"] == {
        "type": "stdio", "command": "npx", "args": ["-y", "@acme/server-brave-search@1.0.2"],
        "env": {"BRAVE_API_KEY": "${input:brave-api-key}"}}
    assert vscode["inputs"] == [{"type": "promptString", "id": "brave-api-key",
                                 "description": "Brave key", "password": True}]
    assert shlex.split(configs.claude_code) == [
        "claude", "mcp", "add", "--env", "BRAVE_API_KEY=<YOUR_BRAVE_API_KEY>", "brave-search",
        "--", "npx", "-y", "@acme/server-brave-search@1.0.2"]


def test_pypi_uses_uvx_and_pins_the_version() -> None:
    launch = only({"name": "a.b/weather", "packages": [
        {"registryType": "pypi", "identifier": "weather-mcp", "version": "0.5.0"}]})
    assert launch.command == "uvx"
    assert [a.render("placeholder") for a in launch.args] == ["weather-mcp==0.5.0"]


def test_runtime_hint_overrides_the_launcher() -> None:
    launch = only({"name": "a.b/x", "packages": [
        {"registryType": "npm", "identifier": "x", "version": "1", "runtimeHint": "bunx"}]})
    assert launch.command == "bunx"
    assert [a.render("placeholder") for a in launch.args] == ["x@1"]


def test_oci_runs_docker_and_passes_env_through() -> None:
    manifest = load_json(next(p for p in EXAMPLES if "database-manager" in p.name))
    launch = only(manifest)
    args = [a.render("placeholder") for a in launch.args]
    assert launch.command == "docker"
    assert args[:3] == ["run", "-i", "--rm"]
    assert args[3:7] == ["--network", "host", "-e", "DB_TYPE=<DB_TYPE>"]
    assert args[7:11] == ["-e", "DB_USERNAME", "-e", "DB_PASSWORD"]
    assert args[11] == "docker.io/example/database-manager-mcp:3.1.0"
    assert args[12:] == ["--host", "localhost", "<DATABASE_NAME>"]
    vscode = json.loads(cc.vscode(launch))
    assert vscode["servers"]["database-manager"]["env"] == {
        "DB_USERNAME": "${input:db-username}", "DB_PASSWORD": "${input:db-password}"}
    secret = {i["id"]: i.get("password", False) for i in vscode["inputs"]}
    assert secret == {"db-type": False, "database-name": False, "db-username": False,
                      "db-password": True}


def test_nuget_uses_dnx_and_separates_tool_arguments() -> None:
    manifest = load_json(next(p for p in EXAMPLES if "example03" in p.name))
    launch = only(manifest)
    assert launch.command == "dnx"
    assert [a.render("placeholder") for a in launch.args] == [
        "Knapcode.SampleMcpServer@0.4.0-beta", "--yes", "--", "mcp", "start"]


def test_remote_with_secret_header_and_url_variable() -> None:
    manifest = {"name": "a.b/tenant", "remotes": [{
        "type": "streamable-http", "url": "https://mcp.example.com/{tenant}/mcp",
        "variables": {"tenant": {"description": "Tenant", "isRequired": True}},
        "headers": [{"name": "Authorization", "value": "Bearer {token}", "variables": {
            "token": {"description": "API token", "isSecret": True, "isRequired": True}}},
            {"name": "X-Region", "default": "eu"}],
    }]}
    launch = only(manifest)
    assert launch.is_remote
    vscode = json.loads(cc.vscode(launch))
    assert vscode["servers"]["tenant"] == {
        "type": "http", "url": "https://mcp.example.com/${input:tenant}/mcp",
        "headers": {"Authorization": "Bearer ${input:token}"}}
    assert {i["id"] for i in vscode["inputs"]} == {"tenant", "token"}
    cursor = json.loads(cc.cursor(launch))
    assert cursor == {"mcpServers": {"tenant": {
        "url": "https://mcp.example.com/<TENANT>/mcp",
        "headers": {"Authorization": "Bearer <YOUR_TOKEN>"}}}}
    assert shlex.split(cc.claude_code(launch)) == [
        "claude", "mcp", "add", "--transport", "http", "--header",
        "Authorization: Bearer <YOUR_TOKEN>", "tenant", "https://mcp.example.com/<TENANT>/mcp"]
    desktop = json.loads(cc.claude_desktop(launch))["mcpServers"]["tenant"]
    assert desktop["command"] == "npx" and desktop["args"][:2] == ["-y", "mcp-remote"]


def test_sse_remote_keeps_its_transport() -> None:
    launch = only({"name": "a.b/ev", "remotes": [{"type": "sse", "url": "https://e.example/sse"}]})
    assert json.loads(cc.vscode(launch))["servers"]["ev"]["type"] == "sse"
    assert "--transport sse" in cc.claude_code(launch)


def test_mcpb_bundle_is_a_download_not_a_config() -> None:
    launch = only({"name": "a.b/t", "packages": [{"registryType": "mcpb",
                   "identifier": "https://example.com/t.mcpb", "version": "1"}]})
    assert not launch.configurable and launch.download == "https://example.com/t.mcpb"


def test_package_with_http_transport_connects_to_its_url() -> None:
    manifest = load_json(next(p for p in EXAMPLES if "configurable-server" in p.name))
    launch = only(manifest)
    assert launch.transport == cc.HTTP
    assert launch.url is not None and launch.url.render("placeholder") == "http://localhost:3000/mcp"
    assert "npx -y @example/mcp-server@1.0.0 --port 3000" in launch.note


def test_shell_metacharacters_are_quoted() -> None:
    evil = {"name": "a.b/evil", "packages": [{
        "registryType": "npm", "identifier": "x; rm -rf ~", "version": "$(id)",
        "environmentVariables": [{"name": "K", "value": "`whoami`"}]}]}
    words = shlex.split(cc.claude_code(only(evil)))
    assert words[-1] == "x; rm -rf ~@$(id)"
    assert "K=`whoami`" in words


def test_optional_inputs_without_values_are_left_out() -> None:
    launch = only({"name": "a.b/o", "packages": [{
        "registryType": "npm", "identifier": "o", "version": "1",
        "packageArguments": [{"type": "named", "name": "--port", "format": "number"}],
        "environmentVariables": [{"name": "OPTIONAL"}]}]})
    assert [a.render("placeholder") for a in launch.args] == ["-y", "o@1"]
    assert launch.env == ()


def test_the_official_examples_are_found() -> None:
    """The next test runs once per example: without them it would check nothing (an empty
    parameter set also fails collection, see empty_parameter_set_mark in pyproject.toml)."""
    assert len(EXAMPLES) >= 17, f"{len(EXAMPLES)} examples under {SHARED / 'spec' / 'examples'}"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name.split(".")[1])
def test_every_official_example_renders(path: Any) -> None:
    manifest = load_json(path)
    for launch in cc.launches(manifest):
        if launch.configurable:
            configs = cc.configs_for(launch)
            for text in (configs.claude_desktop, configs.vscode, configs.cursor):
                json.loads(text)
            shlex.split(configs.claude_code)


def test_garbage_manifests_do_not_crash() -> None:
    assert cc.launches({}) == []
    assert cc.launches({"packages": "nope", "remotes": [1, None, {"url": 5}]}) == []
    assert cc.server_key("") == "server"
    assert cc.server_key("io.github.acme/My Server!") == "My-Server"
