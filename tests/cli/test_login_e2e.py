"""Every `mcp-index login` method end to end: the real CLI against a live registry.

The registry is pytest-django's live server; the proofs it checks are served by the
loopback fakes of tests/support (a `.well-known/mcp-registry-auth` host, a DNS responder,
an OIDC issuer, npm). Keys and records come from `mcp-index keygen`
itself, so what a user would copy from its output is exactly what gets verified.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mcp_index_cli.commands import session
from tests.support.cli import Run
from tests.support.loopback import PROOF_DOMAIN, Reply
from tests.support.manifests import manifest

pytestmark = pytest.mark.django_db(transaction=True)

WELL_KNOWN = "/.well-known/mcp-registry-auth"
PROOF_NAMESPACE = "test.example.proof"  # PROOF_DOMAIN reversed
DNS_DOMAIN = "dns.example.test"
AUDIENCE = "https://index.example.test"
OFFICIAL = "io.modelcontextprotocol.registry/official"

Mcp = Callable[..., Run]


@pytest.fixture
def mcp(cli: Mcp, live_server: Any) -> Mcp:
    """`mcp-index --registry <live server> ARGS...`."""

    def run(*argv: str) -> Run:
        return cli("--registry", live_server.url, *argv)

    return run


def api_get(live_server: Any, name: str, version: str = "latest") -> httpx.Response:
    quoted = name.replace("/", "%2F")
    return httpx.get(f"{live_server.url}/v0/servers/{quoted}/versions/{version}")


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return path


def keygen(mcp: Mcp, out: Path, *, algorithm: str, domain: str) -> str:
    """Run `keygen --out` and return the key record line it tells the user to publish."""
    result = mcp("keygen", "--algorithm", algorithm, "--domain", domain, "--out", str(out))
    assert result.code == 0, result.err
    records = [line for line in result.out.splitlines() if line.startswith("v=MCPv1;")]
    assert len(records) == 2 and records[0] == records[1], result.out  # the TXT and http line
    assert f"k={algorithm};" in records[0]
    return records[0]


def serve_record(proof_host: Any, record: str) -> None:
    proof_host.route(WELL_KNOWN, Reply(body=(record + "\n").encode()))


def one_line(result: Run) -> str:
    """The failure message, which must be a single line on stderr."""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    return lines[0]


def pin_clock(monkeypatch: pytest.MonkeyPatch, offset: float = 0) -> None:
    """Make the CLI sign one fixed timestamp, `offset` seconds from now."""
    moment = datetime.fromtimestamp(time.time() + offset, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    monkeypatch.setattr(session, "rfc3339_now", lambda: moment)


def whoami(mcp: Mcp) -> dict[str, Any]:
    result = mcp("--json", "whoami")
    assert result.code == 0, result.err
    return json.loads(result.out)


def resources(identity: dict[str, Any], action: str = "publish") -> set[str]:
    return {p["resource"] for p in identity["permissions"] if p["action"] == action}


# --- login http: publish, refusals, status --------------------------------------------------


@pytest.mark.parametrize("algorithm", ["ed25519", "ecdsap384"])
def test_login_http_publish_refusals_and_status(mcp, live_server, proof_host, tmp_path, algorithm):
    record = keygen(mcp, tmp_path / "key", algorithm=algorithm, domain=PROOF_DOMAIN)
    serve_record(proof_host, record)

    login = mcp("login", "http", "--domain", PROOF_DOMAIN, "--private-key-file", str(tmp_path / "key"))
    assert login.code == 0, login.err
    assert "with http" in login.out
    assert [r.path for r in proof_host.requests] == [WELL_KNOWN]
    identity = whoami(mcp)
    assert identity["auth_method"] == "http"
    assert resources(identity) == {f"{PROOF_NAMESPACE}/*"}

    name = f"{PROOF_NAMESPACE}/x-{algorithm}"
    document = manifest(name, "1.0.0")
    published = mcp("publish", str(write(tmp_path / "server.json", document)))
    assert published.code == 0, published.err
    assert api_get(live_server, name, "1.0.0").json()["server"] == document

    foreign = mcp("publish", str(write(tmp_path / "foreign.json", manifest("io.github.someone/tool"))))
    assert foreign.code == 4
    assert "HTTP 403" in foreign.err
    # http proves the domain itself; subdomain namespaces need the DNS proof.
    sub = mcp("publish", str(write(tmp_path / "sub.json", manifest(f"{PROOF_NAMESPACE}.sub/tool"))))
    assert sub.code == 4
    assert api_get(live_server, "io.github.someone/tool").status_code == 404

    changed = write(tmp_path / "changed.json", {**document, "description": "Changed"})
    duplicate = mcp("publish", str(changed))
    assert duplicate.code == 5
    assert "duplicate" in duplicate.err.lower()
    assert api_get(live_server, name, "1.0.0").json()["server"]["description"] == "A demo server"

    status = mcp("status", "--status", "deprecated", "--message", "use y", name, "1.0.0")
    assert status.code == 0, status.err
    meta = api_get(live_server, name, "1.0.0").json()["_meta"][OFFICIAL]
    assert (meta["status"], meta["statusMessage"]) == ("deprecated", "use y")


# --- login dns --------------------------------------------------------------------------------


def test_login_dns_grants_the_domain_and_its_subdomains(mcp, live_server, dns_server, tmp_path):
    record = keygen(mcp, tmp_path / "key", algorithm="ecdsap384", domain=DNS_DOMAIN)
    dns_server.txt[DNS_DOMAIN] = ["unrelated=1", record]

    login = mcp("login", "dns", "--domain", DNS_DOMAIN, "--private-key-file", str(tmp_path / "key"))
    assert login.code == 0, login.err
    assert resources(whoami(mcp)) == {"test.example.dns/*", "test.example.dns.*"}

    for name in ("test.example.dns/tool", "test.example.dns.sub/tool"):
        published = mcp("publish", str(write(tmp_path / "server.json", manifest(name))))
        assert published.code == 0, published.err
        assert api_get(live_server, name).status_code == 200

    other = mcp("publish", str(write(tmp_path / "other.json", manifest("test.example.other/tool"))))
    assert other.code == 4


# --- login github-oidc / oidc -----------------------------------------------------------------


@pytest.fixture
def github(issuer, settings):
    """GitHub OIDC pointed at the fake issuer; the audience defaults to the registry's origin."""
    settings.MCP_INDEX_GITHUB_OIDC_ISSUER = issuer.issuer
    settings.MCP_INDEX_GITHUB_OIDC_AUDIENCE = []
    return issuer


def test_login_github_oidc_publishes_under_the_repository_owner(mcp, live_server, github, tmp_path):
    # The CLI asks GitHub Actions for a token with the registry's origin as the audience; a
    # token minted that way must be accepted by a registry with no audience configured.
    token = github.mint(aud=live_server.url, repository_owner="acme-labs",
                        repository="acme-labs/db", sub="repo:acme-labs/db:ref:refs/tags/v1")
    login = mcp("login", "github-oidc", "--token", token)
    assert login.code == 0, login.err
    identity = whoami(mcp)
    assert identity["auth_method"] == "github-oidc"
    assert resources(identity) == {"io.github.acme-labs/*"}

    name = "io.github.acme-labs/db"
    assert mcp("publish", str(write(tmp_path / "server.json", manifest(name)))).code == 0
    assert api_get(live_server, name).json()["server"]["name"] == name
    foreign = mcp("publish", str(write(tmp_path / "foreign.json", manifest("io.github.acme/db"))))
    assert foreign.code == 4


@pytest.fixture
def gitlab(issuer, settings):
    """A company OIDC provider (GitLab CI shaped claims) in MCP_INDEX_OIDC_PROVIDERS."""
    settings.MCP_INDEX_OIDC_PROVIDERS = [{
        "issuer": issuer.issuer,
        "audience": [AUDIENCE],
        "required_claims": {"namespace_path": ["acme"], "ref_protected": "true"},
        "grants": [{"action": "publish", "pattern": "com.gitlab.{namespace_path}/*"}],
        "subject_claim": "project_path",
    }]
    return issuer


def gitlab_token(issuer, **claims: Any) -> str:
    base = {"aud": AUDIENCE, "namespace_path": "acme", "project_path": "acme/db",
            "ref_protected": "true"}
    return issuer.mint(**{**base, **claims})


def test_login_oidc_with_a_configured_provider(mcp, live_server, gitlab, tmp_path):
    login = mcp("login", "oidc", "--token", gitlab_token(gitlab))
    assert login.code == 0, login.err
    identity = whoami(mcp)
    assert (identity["auth_method"], identity["subject"]) == ("oidc", "acme/db")
    assert resources(identity) == {"com.gitlab.acme/*"}

    name = "com.gitlab.acme/db"
    assert mcp("publish", str(write(tmp_path / "server.json", manifest(name)))).code == 0
    assert api_get(live_server, name).status_code == 200
    other = mcp("publish", str(write(tmp_path / "other.json", manifest("com.gitlab.mallory/db"))))
    assert other.code == 4


def test_login_oidc_token_from_the_environment(mcp, gitlab, monkeypatch):
    monkeypatch.setenv(session.OIDC_TOKEN_ENV, gitlab_token(gitlab))
    login = mcp("login", "oidc")
    assert login.code == 0, login.err
    assert resources(whoami(mcp)) == {"com.gitlab.acme/*"}


# --- bad proofs: exit 4 and one line saying why -----------------------------------------------


def test_replayed_http_proof_is_refused(mcp, proof_host, tmp_path, monkeypatch):
    serve_record(proof_host, keygen(mcp, tmp_path / "key", algorithm="ed25519", domain=PROOF_DOMAIN))
    pin_clock(monkeypatch)  # the same second twice: an identical proof
    args = ("login", "http", "--domain", PROOF_DOMAIN, "--private-key-file", str(tmp_path / "key"))
    assert mcp(*args).code == 0
    replayed = mcp(*args)
    assert replayed.code == 4
    assert "already used" in one_line(replayed)


def test_two_logins_in_the_same_second_are_not_a_replay(mcp, proof_host, tmp_path, monkeypatch):
    # Parallel CI jobs sharing one domain key log in at the same time; with whole-second
    # timestamps their proofs were identical and every job but the first was refused.
    serve_record(proof_host, keygen(mcp, tmp_path / "key", algorithm="ed25519", domain=PROOF_DOMAIN))
    second = datetime.now(UTC).replace(microsecond=0)
    ticks = iter([second + timedelta(milliseconds=100), second + timedelta(milliseconds=200)])

    class Clock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:
            return next(ticks)

    monkeypatch.setattr(session, "datetime", Clock)
    args = ("login", "http", "--domain", PROOF_DOMAIN, "--private-key-file", str(tmp_path / "key"))
    first, again = mcp(*args), mcp(*args)
    assert (first.code, again.code) == (0, 0), again.err


@pytest.mark.parametrize("method", ["http", "dns"])
def test_expired_signed_timestamp_is_refused(mcp, proof_host, dns_server, tmp_path, monkeypatch,
                                             method):
    record = keygen(mcp, tmp_path / "key", algorithm="ecdsap384", domain=PROOF_DOMAIN)
    serve_record(proof_host, record)
    dns_server.txt[PROOF_DOMAIN] = [record]
    pin_clock(monkeypatch, offset=-120)
    result = mcp("login", method, "--domain", PROOF_DOMAIN, "--private-key-file", str(tmp_path / "key"))
    assert result.code == 4
    assert "outside the allowed window" in one_line(result)
    assert mcp("whoami").code == 4  # nothing was stored


@pytest.mark.parametrize(("method", "claims", "reason"), [
    ("github-oidc", {"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000}, "has expired"),
    ("oidc", {"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000}, "has expired"),
    ("oidc", {"namespace_path": "mallory"}, "does not have a required value"),
])
def test_bad_oidc_tokens_are_refused(mcp, github, gitlab, live_server, method, claims, reason):
    aud = live_server.url if method == "github-oidc" else AUDIENCE
    token = gitlab_token(gitlab, aud=aud, repository_owner="acme", **claims)
    result = mcp("login", method, "--token", token)
    assert result.code == 4
    assert reason in one_line(result)


@pytest.mark.parametrize("method", ["github-oidc", "oidc"])
def test_replayed_oidc_token_is_refused(mcp, github, gitlab, live_server, method):
    aud = live_server.url if method == "github-oidc" else AUDIENCE
    token = gitlab_token(gitlab, aud=aud, repository_owner="acme")
    assert mcp("login", method, "--token", token).code == 0
    replayed = mcp("login", method, "--token", token)
    assert replayed.code == 4
    assert "already used" in one_line(replayed)


# --- from an empty directory (issue 3, "Done when") -------------------------------------------


@pytest.fixture
def project(tmp_path, monkeypatch, settings) -> Path:
    """An otherwise empty directory holding a package.json that names the server."""
    settings.MCP_INDEX_OWNERSHIP_CHECKS = True
    directory = tmp_path / "weather"
    directory.mkdir()
    write(directory / "package.json", {
        "name": "@proof/weather", "version": "1.2.0", "description": "Weather for agents",
        "mcpName": f"{PROOF_NAMESPACE}/weather"})
    monkeypatch.chdir(directory)
    return directory


def init_keygen_login_publish(mcp: Mcp, proof_host: Any) -> Run:
    """The README's laptop path, command by command; returns the publish run."""
    init = mcp("init")
    assert init.code == 0, init.err
    keys = mcp("keygen", "--domain", PROOF_DOMAIN, "--out", "key")
    assert keys.code == 0, keys.err
    serve_record(proof_host, next(line for line in keys.out.splitlines()
                                  if line.startswith("v=MCPv1;")))
    login = mcp("login", "http", "--domain", PROOF_DOMAIN, "--private-key-file", "key")
    assert login.code == 0, login.err
    return mcp("publish")


def test_from_an_empty_directory(mcp, live_server, proof_host, npm, project):
    name = f"{PROOF_NAMESPACE}/weather"
    npm.route("/@proof%2Fweather/1.2.0", Reply.json(
        {"name": "@proof/weather", "version": "1.2.0", "mcpName": name}))

    published = init_keygen_login_publish(mcp, proof_host)
    assert published.code == 0, published.err
    assert sorted(p.name for p in project.iterdir()) == ["key", "package.json", "server.json"]
    assert [r.path for r in npm.requests] == ["/@proof%2Fweather/1.2.0"]

    entry = api_get(live_server, name).json()
    assert entry["server"] == json.loads((project / "server.json").read_text())
    assert entry["server"]["packages"][0]["identifier"] == "@proof/weather"
    assert entry["_meta"][OFFICIAL]["isLatest"] is True


def test_from_an_empty_directory_package_names_another_server(mcp, live_server, proof_host, npm,
                                                              project):
    npm.route("/@proof%2Fweather/1.2.0", Reply.json(
        {"name": "@proof/weather", "version": "1.2.0", "mcpName": "io.github.mallory/weather"}))

    published = init_keygen_login_publish(mcp, proof_host)
    assert published.code == 5
    assert "@proof/weather" in published.err and "mcpName" in published.err
    assert api_get(live_server, f"{PROOF_NAMESPACE}/weather").status_code == 404
