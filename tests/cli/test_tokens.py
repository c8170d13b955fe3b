"""tokens create|list|revoke against the fake registry."""

from __future__ import annotations

import json

TOKENS = "/v0.1/x/io.mcpindex/tokens"
CREATED = {"id": 7, "name": "github-actions", "token": "mcpi_7_s3cr3t",
           "patterns": ["io.github.acme/*", "com.acme/*"], "created_at": "2025-12-18T10:00:00Z",
           "expires_at": "2026-01-17T10:00:00Z", "last_used_at": None}


def test_create_sends_name_patterns_and_lifetime_and_shows_the_secret_once(cli, fake,
                                                                           logged_in):
    fake.on("POST", TOKENS, 201, CREATED)
    result = cli("tokens", "create", "--name", "github-actions", "--pattern", "io.github.acme/*",
                 "--pattern", "com.acme/*", "--expires-in-days", "30")
    assert result.code == 0, result.err
    request = fake.only("POST", TOKENS)
    assert request.json() == {"name": "github-actions",
                              "patterns": ["io.github.acme/*", "com.acme/*"],
                              "expires_in_days": 30}
    assert request.headers["authorization"] == f"Bearer {logged_in}"
    assert result.out.count("mcpi_7_s3cr3t") == 1
    assert "not shown again" in result.out


def test_create_without_lifetime_omits_it_and_json_returns_the_body(cli, fake, logged_in):
    fake.on("POST", TOKENS, 201, CREATED)
    result = cli("--json", "tokens", "create", "--name", "ci", "--pattern", "io.github.acme/*")
    assert result.code == 0, result.err
    assert fake.only("POST", TOKENS).json() == {"name": "ci", "patterns": ["io.github.acme/*"]}
    assert json.loads(result.out) == CREATED


def test_create_outside_grants_exits_4(cli, fake, logged_in):
    fake.on("POST", TOKENS, 403, {"title": "Forbidden", "status": 403,
                                  "detail": "Patterns ['com.other/*'] are outside your grants"})
    result = cli("tokens", "create", "--name", "x", "--pattern", "com.other/*")
    assert result.code == 4
    assert "outside your grants" in result.err


def test_create_requires_a_pattern(cli, fake, logged_in):
    assert cli("tokens", "create", "--name", "x").code == 2
    assert cli("tokens", "create", "--name", "x", "--pattern", "a/*",
               "--expires-in-days", "0").code == 2
    assert fake.requests == []


def test_list_shows_tokens_without_secrets(cli, fake, logged_in):
    listed = {k: v for k, v in CREATED.items() if k != "token"}
    fake.on("GET", TOKENS, 200, {"tokens": [listed]})
    result = cli("tokens", "list")
    assert result.code == 0, result.err
    row = result.out.splitlines()[1]
    assert row.split()[:2] == ["7", "github-actions"]
    assert "io.github.acme/*, com.acme/*" in row
    assert "never" in row  # never used
    assert json.loads(cli("tokens", "list", "--json").out) == {"tokens": [listed]}


def test_revoke_deletes_by_id(cli, fake, logged_in):
    fake.on("DELETE", f"{TOKENS}/7", 204, None)
    result = cli("tokens", "revoke", "7")
    assert result.code == 0, result.err
    assert fake.only("DELETE", f"{TOKENS}/7").headers["authorization"] == f"Bearer {logged_in}"
    assert result.out == "Revoked token 7.\n"


def test_revoking_an_unknown_token_fails(cli, fake, logged_in):
    fake.on("DELETE", f"{TOKENS}/99", 404, {"title": "Not Found", "status": 404,
                                            "detail": "Token not found"})
    result = cli("tokens", "revoke", "99")
    assert result.code == 1
    assert result.err.startswith("error: token revocation failed (HTTP 404): Token not found")
