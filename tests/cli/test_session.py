"""login, logout, whoami, token storage, registry selection, errors and exit codes."""

from __future__ import annotations

import io
import json
import os
import socket
import sys
import time

import pytest

WHOAMI = "/v0.1/x/io.mcpindex/whoami"
FAR_FUTURE = 4_102_444_800


def test_login_none_stores_the_token_privately_per_registry(cli, fake, credentials):
    fake.on("POST", "/v0/auth/none", 200,
            {"registry_token": "jwt-anon", "expires_at": FAR_FUTURE})
    result = cli("--registry", fake.url + "/", "login", "none")
    assert result.code == 0, result.err
    request = fake.only("POST", "/v0/auth/none")
    assert request.body == b""
    assert "jwt-anon" not in result.out + result.err
    assert os.stat(credentials).st_mode & 0o777 == 0o600
    assert os.stat(credentials.parent).st_mode & 0o777 == 0o700
    data = json.loads(credentials.read_text())
    assert data["registries"] == {
        fake.url: {"token": "jwt-anon", "method": "none", "expires_at": FAR_FUTURE}}


def test_later_commands_use_the_registry_of_the_last_login(cli, fake):
    fake.on("POST", "/v0/auth/none", 200, {"registry_token": "jwt-x", "expires_at": FAR_FUTURE})
    fake.on("GET", WHOAMI, 200, {"auth_method": "none", "subject": "anonymous",
                                 "permissions": []})
    assert cli("--registry", fake.url, "login", "none").code == 0
    result = cli("whoami")
    assert result.code == 0, result.err
    assert fake.only("GET", WHOAMI).headers["authorization"] == "Bearer jwt-x"


def test_environment_registry_wins_over_the_last_login(cli, fake, monkeypatch):
    assert cli("--registry", "http://127.0.0.1:9/", "login", "token", "--token", "t1").code == 0
    assert cli("--registry", fake.url, "login", "token", "--token", "t2").code == 0
    assert cli("--registry", "http://127.0.0.1:9", "login", "token", "--token", "t1").code == 0
    fake.on("GET", WHOAMI, 200, {"auth_method": "token", "subject": "u", "permissions": []})
    monkeypatch.setenv("MCP_INDEX_REGISTRY", fake.url)
    result = cli("whoami")
    assert result.code == 0, result.err
    assert fake.only("GET", WHOAMI).headers["authorization"] == "Bearer t2"


def test_login_token_reads_stdin_and_calls_no_endpoint(cli, fake, credentials, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("mcpi_secret_token\n"))
    result = cli("--registry", fake.url, "--json", "login", "token")
    assert result.code == 0, result.err
    assert fake.requests == []
    assert json.loads(result.out) == {"registry": fake.url, "method": "token",
                                      "expires_at": None, "credentials_file": str(credentials)}
    stored = json.loads(credentials.read_text())["registries"][fake.url]
    assert stored == {"token": "mcpi_secret_token", "method": "token", "expires_at": None}


def test_github_oidc_fetches_an_actions_token_for_the_registry_audience(cli, fake, monkeypatch):
    fake.on("GET", "/_actions/token", 200, {"value": "gh-id-token"})
    fake.on("POST", "/v0/auth/github-oidc", 200,
            {"registry_token": "jwt-gh", "expires_at": FAR_FUTURE})
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", fake.url + "/_actions/token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "runner-secret")
    result = cli("--registry", fake.url + "/", "login", "github-oidc")
    assert result.code == 0, result.err
    actions = fake.only("GET", "/_actions/token")
    assert actions.query == {"api-version": ["2.0"], "audience": [fake.url]}
    assert actions.headers["authorization"] == "Bearer runner-secret"
    assert fake.only("POST", "/v0/auth/github-oidc").json() == {"oidc_token": "gh-id-token"}


def test_github_oidc_outside_actions_without_token_is_a_usage_error(cli, fake):
    result = cli("--registry", fake.url, "login", "github-oidc")
    assert result.code == 2
    assert "id-token: write" in result.err
    assert fake.requests == []


def test_oidc_sends_the_token_from_the_environment(cli, fake, monkeypatch):
    fake.on("POST", "/v0/auth/oidc", 200, {"registry_token": "jwt-o", "expires_at": FAR_FUTURE})
    monkeypatch.setenv("MCP_INDEX_OIDC_TOKEN", "id.token.value")
    assert cli("--registry", fake.url, "login", "oidc").code == 0
    assert fake.only("POST", "/v0/auth/oidc").json() == {"oidc_token": "id.token.value"}


def test_refused_login_exits_4_with_the_reason_and_stores_nothing(cli, fake, credentials):
    fake.on("POST", "/v0/auth/github-oidc", 401,
            {"title": "Unauthorized", "status": 401, "detail": "token audience mismatch"})
    result = cli("--registry", fake.url, "login", "github-oidc", "--token", "bad")
    assert result.code == 4
    # One line: the reason. Not the "log in again" hint other commands add on a 401.
    assert result.err == "error: login github-oidc failed (HTTP 401): token audience mismatch\n"
    assert not credentials.exists()


def test_whoami_prints_identity_and_permissions(cli, fake, logged_in):
    body = {"auth_method": "http", "subject": "example.com", "expires_at": FAR_FUTURE,
            "permissions": [{"action": "publish", "resource": "com.example/*"}]}
    fake.on("GET", WHOAMI, 200, body)
    human = cli("whoami")
    assert human.code == 0, human.err
    assert "example.com" in human.out
    assert "publish  com.example/*" in human.out
    machine = cli("whoami", "--json")
    assert json.loads(machine.out) == body
    assert fake.requests[0].headers["authorization"] == f"Bearer {logged_in}"


def test_expired_token_warns_to_log_in_again(cli, fake):
    fake.on("POST", "/v0/auth/none", 200, {"registry_token": "old", "expires_at": 1_000})
    fake.on("GET", WHOAMI, 401, {"title": "Unauthorized", "status": 401,
                                 "detail": "token expired"})
    assert cli("--registry", fake.url, "login", "none").code == 0
    result = cli("--registry", fake.url, "whoami")
    assert result.code == 4
    assert "expired" in result.err
    assert "mcp-index login none" in result.err


def test_commands_needing_a_token_exit_4_when_not_logged_in(cli, fake):
    result = cli("--registry", fake.url, "whoami")
    assert result.code == 4
    assert f"not logged in to {fake.url}" in result.err
    assert fake.requests == []


def test_token_from_environment_needs_no_stored_login(cli, fake, monkeypatch):
    monkeypatch.setenv("MCP_INDEX_TOKEN", "ci-token")
    fake.on("GET", WHOAMI, 200, {"auth_method": "token", "subject": "ci", "permissions": []})
    assert cli("--registry", fake.url, "whoami").code == 0
    assert fake.only("GET", WHOAMI).headers["authorization"] == "Bearer ci-token"


def test_logout_forgets_the_token(cli, fake, logged_in, credentials):
    result = cli("--registry", fake.url, "logout")
    assert result.code == 0
    assert json.loads(credentials.read_text())["registries"] == {}
    assert cli("--registry", fake.url, "whoami").code == 4


def test_unreachable_registry_exits_6_without_traceback(cli):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cli("--registry", f"http://127.0.0.1:{port}", "login", "none")
    assert result.code == 6
    assert result.err.startswith(f"error: cannot reach http://127.0.0.1:{port}")
    assert len(result.err.strip().splitlines()) == 1


def test_server_error_without_json_is_a_one_line_failure(cli, fake):
    fake.on("POST", "/v0/auth/none", 502, b"<html>Bad Gateway</html>",)
    result = cli("--registry", fake.url, "login", "none")
    assert result.code == 1
    assert result.err == "error: login none failed (HTTP 502): <html>Bad Gateway</html>\n"


@pytest.mark.parametrize("url", ["ftp://example.com", "example.com", "http://x?y=1"])
def test_invalid_registry_url_is_a_usage_error(cli, url):
    result = cli("--registry", url, "login", "none")
    assert result.code == 2
    assert "invalid registry URL" in result.err


def test_version_and_help_exit_0_and_document_exit_codes(cli):
    version = cli("--version")
    assert version.code == 0
    assert version.out.startswith("mcp-index ")
    for command in (["--help"], ["login", "--help"], ["publish", "--help"],
                    ["tokens", "create", "--help"], ["status", "--help"], ["init", "--help"],
                    ["keygen", "--help"], ["validate", "--help"], ["whoami", "--help"]):
        result = cli(*command)
        assert result.code == 0, command
        assert "4  authentication failed" in result.out, command


def test_unknown_arguments_exit_2(cli):
    assert cli("login", "github").code == 2
    assert cli("frobnicate").code == 2
    assert cli().code == 2


def test_json_flag_works_after_the_subcommand_too(cli, fake):
    fake.on("POST", "/v0/auth/none", 200, {"registry_token": "t", "expires_at": FAR_FUTURE})
    result = cli("login", "none", "--registry", fake.url, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["expires_at"] == FAR_FUTURE
    assert time.time() < FAR_FUTURE


def test_credentials_default_to_dot_config_in_home(cli, fake, tmp_path, monkeypatch):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cli("--registry", fake.url, "login", "token", "--token", "t").code == 0
    stored = tmp_path / "home" / ".config" / "mcp-index" / "credentials.json"
    assert json.loads(stored.read_text())["registries"][fake.url]["token"] == "t"
    assert os.stat(stored).st_mode & 0o777 == 0o600
