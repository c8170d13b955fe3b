"""npm, PyPI, NuGet and crates.io ownership checks against loopback fake registries."""

from __future__ import annotations

import pytest

from registry.ownership import OwnershipError, check_ownership
from tests.ownership.conftest import FILES_HOST, NAME, manifest
from tests.proofs.loopback import Reply


def npm_pkg(identifier: str = "@acme/db", version: str = "1.2.0", **kw):
    return {"registryType": "npm", "identifier": identifier, "version": version, **kw}


# --- npm --------------------------------------------------------------------------------


def test_npm_passes_with_matching_mcp_name(npm):
    npm.route("/@acme%2Fdb/1.2.0", Reply.json({"name": "@acme/db", "mcpName": NAME}))
    check_ownership(manifest(npm_pkg()))
    assert [r.path for r in npm.requests] == ["/@acme%2Fdb/1.2.0"]


def test_npm_missing_mcp_name(npm):
    npm.route("/@acme%2Fdb/1.2.0", Reply.json({"name": "@acme/db"}))
    with pytest.raises(OwnershipError) as err:
        check_ownership(manifest(npm_pkg()))
    assert err.value.message.startswith("npm package @acme/db@1.2.0: package.json has no mcpName")
    assert f'"mcpName": "{NAME}"' in err.value.message


def test_npm_other_mcp_name(npm):
    npm.route("/db/1.2.0", Reply.json({"name": "db", "mcpName": "io.github.mallory/db"}))
    with pytest.raises(OwnershipError, match=r"mcpName is 'io.github.mallory/db', not"):
        check_ownership(manifest(npm_pkg("db")))


def test_npm_unknown_version(npm):
    with pytest.raises(OwnershipError, match=r"npm package db@9\.9\.9: the package version .* not found"):
        check_ownership(manifest(npm_pkg("db", "9.9.9")))


def test_npm_mirror_credential_is_sent(npm, settings):
    settings.MCP_INDEX_OWNERSHIP_NPM_AUTH = "Bearer mirror-secret"
    npm.route("/db/1.2.0", Reply.json({"mcpName": NAME}))
    check_ownership(manifest(npm_pkg("db")))
    assert npm.requests[0].headers["authorization"] == "Bearer mirror-secret"


def test_npm_foreign_registry_base_url_and_bad_names(npm):
    with pytest.raises(OwnershipError, match=r"registryBaseUrl https://npm.evil.example"):
        check_ownership(manifest(npm_pkg("db", registryBaseUrl="https://npm.evil.example")))
    with pytest.raises(OwnershipError, match="not a valid package name"):
        check_ownership(manifest(npm_pkg("../../admin")))
    with pytest.raises(OwnershipError, match="a package version is required"):
        check_ownership(manifest(npm_pkg("db", "")))
    assert npm.requests == []


def test_npm_public_base_url_is_accepted_when_a_mirror_is_used(npm):
    npm.route("/db/1.2.0", Reply.json({"mcpName": NAME}))
    check_ownership(manifest(npm_pkg("db", registryBaseUrl="https://registry.npmjs.org")))


# --- PyPI -------------------------------------------------------------------------------


def pypi_release(pypi, description):
    pypi.route("/pypi/acme-db/1.0.0/json", Reply.json({"info": {"description": description}}))
    return manifest({"registryType": "pypi", "identifier": "acme-db", "version": "1.0.0"})


@pytest.mark.parametrize(
    "description",
    [
        f"# Acme DB\n\nmcp-name: {NAME}\n",
        f"<!-- mcp-name: {NAME} -->",
        f"<!-- mcp-name: {NAME}-->",
        f"mcp-name: {NAME}",
        f"<p>mcp-name: {NAME}</p>",
    ],
)
def test_pypi_token_with_boundary_passes(pypi, description):
    check_ownership(pypi_release(pypi, description))


@pytest.mark.parametrize(
    "description",
    ["# Acme DB", f"mcp-name: {NAME}-extra", f"mcp-name: {NAME}2", "mcp-name: io.github.acme/"],
)
def test_pypi_missing_token_fails(pypi, description):
    with pytest.raises(OwnershipError) as err:
        check_ownership(pypi_release(pypi, description))
    assert err.value.message == (
        f"PyPI package acme-db==1.0.0: the project description (README) does not contain 'mcp-name: {NAME}'"
    )


def test_pypi_unknown_release(pypi):
    doc = manifest({"registryType": "pypi", "identifier": "acme-db", "version": "2.0.0"})
    with pytest.raises(OwnershipError, match=r"acme-db==2.0.0: the release at .* was not found"):
        check_ownership(doc)


# --- NuGet ------------------------------------------------------------------------------


def nuget_pkg():
    return {"registryType": "nuget", "identifier": "Acme.Db", "version": "1.0.0-Beta"}


def test_nuget_readme_via_service_index(nuget):
    nuget.route("/flat/acme.db/1.0.0-beta/readme", Reply(body=f"# Db\nmcp-name: {NAME}\n".encode()))
    check_ownership(manifest(nuget_pkg()))
    assert [r.path for r in nuget.requests] == ["/v3/index.json", "/flat/acme.db/1.0.0-beta/readme"]


def test_nuget_readme_without_token(nuget):
    nuget.route("/flat/acme.db/1.0.0-beta/readme", Reply(body=b"# Db\n"))
    with pytest.raises(OwnershipError, match=r"NuGet package Acme\.Db 1\.0\.0-Beta: the README"):
        check_ownership(manifest(nuget_pkg()))


def test_nuget_without_readme(nuget):
    with pytest.raises(OwnershipError, match="has no README; it must contain 'mcp-name: "):
        check_ownership(manifest(nuget_pkg()))


def test_registry_redirects_go_through_the_ssrf_guard(npm, http_server, settings):
    internal = http_server()  # an internal service a registry (or its mirror) redirects to
    internal.route("/db.json", Reply.json({"mcpName": NAME}))
    npm.route("/db/1.2.0", Reply(status=302, headers={"Location": f"{internal.url}/db.json"}))
    with pytest.raises(OwnershipError, match=r"db@1.2.0: could not fetch .*only https URLs"):
        check_ownership(manifest(npm_pkg("db")))
    settings.MCP_INDEX_OUTBOUND_HOSTS = {"cdn.internal.test": "10.0.0.7"}
    npm.route("/db/1.2.0", Reply(status=302, headers={"Location": "https://cdn.internal.test/db"}))
    with pytest.raises(OwnershipError, match=r"db@1.2.0: could not fetch .*private or reserved"):
        check_ownership(manifest(npm_pkg("db")))
    assert internal.requests == []


def test_every_redirect_hop_is_checked_and_credentials_stay_home(npm, files, http_server, settings):
    settings.MCP_INDEX_OWNERSHIP_NPM_AUTH = "Bearer mirror-secret"
    cdn = f"https://{FILES_HOST}:{files.port}"
    npm.route("/db/1.2.0", Reply(status=302, headers={"Location": f"{cdn}/db.json"}))
    files.route("/db.json", Reply.json({"mcpName": NAME}))
    check_ownership(manifest(npm_pkg("db")))  # a public CDN hop is fine ...
    assert npm.requests[0].headers["authorization"] == "Bearer mirror-secret"
    assert "authorization" not in files.requests[0].headers  # ... but gets no credentials
    internal = http_server()
    internal.route("/db.json", Reply.json({"mcpName": NAME}))
    files.route("/db.json", Reply(status=302, headers={"Location": f"{internal.url}/db.json"}))
    with pytest.raises(OwnershipError, match="only https URLs"):  # the next hop is checked too
        check_ownership(manifest(npm_pkg("db")))
    files.route("/db.json", Reply(status=302, headers={"Location": f"https://127.0.0.1:{files.port}/"}))
    with pytest.raises(OwnershipError, match="IP address literals"):
        check_ownership(manifest(npm_pkg("db")))
    assert internal.requests == []


# --- crates.io --------------------------------------------------------------------------


def crate():
    return {"registryType": "cargo", "identifier": "acme-db", "version": "0.3.1"}


def test_cargo_rendered_readme_after_redirect(cargo):
    cargo.route(
        "/api/v1/crates/acme-db/0.3.1/readme",
        Reply(status=302, headers={"Location": "/readmes/acme-db/acme-db-0.3.1.html"}),
    )
    cargo.route(
        "/readmes/acme-db/acme-db-0.3.1.html",
        Reply(body=f"<h1>Acme</h1><p>mcp-name: {NAME}</p>".encode()),
    )
    check_ownership(manifest(crate()))
    assert "mcp-index" in cargo.requests[0].headers["user-agent"]


def test_cargo_readme_without_token_and_missing(cargo):
    cargo.route("/api/v1/crates/acme-db/0.3.1/readme", Reply(body=b"<h1>Acme</h1>"))
    with pytest.raises(OwnershipError, match=r"crate acme-db 0.3.1: the README does not contain"):
        check_ownership(manifest(crate()))
    cargo.routes.clear()
    with pytest.raises(OwnershipError, match=r"crate acme-db 0.3.1: no README was found"):
        check_ownership(manifest(crate()))


# --- switches ---------------------------------------------------------------------------


def test_global_switch_off_makes_no_requests(npm, settings):
    settings.MCP_INDEX_OWNERSHIP_CHECKS = False
    check_ownership(manifest(npm_pkg(), {"registryType": "conda", "identifier": "x"}))
    assert npm.requests == []


def test_one_type_switched_off(npm, pypi, settings):
    settings.MCP_INDEX_OWNERSHIP_SKIP = ["npm"]
    pypi.route("/pypi/acme-db/1.0.0/json", Reply.json({"info": {"description": f"mcp-name: {NAME}"}}))
    check_ownership(
        manifest(npm_pkg(), {"registryType": "pypi", "identifier": "acme-db", "version": "1.0.0"})
    )
    assert npm.requests == []
    assert len(pypi.requests) == 1


def test_unsupported_type_and_first_failure_wins(npm):
    with pytest.raises(OwnershipError, match="registry type 'conda' is not supported"):
        check_ownership(manifest({"registryType": "conda", "identifier": "acme-db"}))
    npm.route("/db/1.2.0", Reply.json({"mcpName": NAME}))
    with pytest.raises(OwnershipError, match=r"npm package other@1.2.0"):
        check_ownership(manifest(npm_pkg("db"), npm_pkg("other")))


def test_unreachable_registry_names_the_package(settings):
    settings.MCP_INDEX_OWNERSHIP_NPM_URL = "http://127.0.0.1:9"
    with pytest.raises(OwnershipError, match=r"npm package db@1.2.0: could not fetch .*ConnectError"):
        check_ownership(manifest(npm_pkg("db")))
