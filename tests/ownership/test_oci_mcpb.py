"""OCI labels through the v2 token handshake, and MCPB downloads checked against fileSha256."""

from __future__ import annotations

import hashlib
import json

import pytest

from registry.ownership import OwnershipError, check_ownership
from registry.ownership.base import PackageRef
from registry.ownership.oci import parse_image
from tests.ownership.conftest import FILES_HOST, NAME, OCI_HOST, PULL_TOKEN, basic, manifest
from tests.proofs.loopback import Reply

LABEL = "io.modelcontextprotocol.server.name"


def image(identifier: str = f"{OCI_HOST}/acme/db:1.0.0", **kw):
    return {"registryType": "oci", "identifier": identifier, **kw}


# --- OCI --------------------------------------------------------------------------------


@pytest.mark.parametrize("index", [False, True])
def test_oci_label_through_token_handshake(oci, index):
    oci.push("acme/db", "1.0.0", {LABEL: NAME, "other": "x"}, index=index)
    check_ownership(manifest(image()))
    paths = [r.path for r in oci.server.requests]
    assert paths[0] == "/v2/acme/db/manifests/1.0.0"  # anonymous first, answered 401
    assert paths[1].startswith("/token?service=fake-registry&scope=repository%3Aacme%2Fdb%3Apull")
    authorized = [r for r in oci.server.requests[2:]]
    assert all(r.headers.get("authorization") == f"Bearer {PULL_TOKEN}" for r in authorized)
    assert not any("arm" in r.path for r in oci.server.requests)


def test_oci_missing_label(oci):
    oci.push("acme/db", "1.0.0", {"org.opencontainers.image.title": "db"})
    with pytest.raises(OwnershipError) as err:
        check_ownership(manifest(image()))
    assert err.value.message == (
        f'OCI image {OCI_HOST}/acme/db:1.0.0: missing label {LABEL}; add LABEL {LABEL}="{NAME}"'
    )


def test_oci_image_without_any_labels(oci):
    oci.push("acme/db", "1.0.0", None)
    with pytest.raises(OwnershipError, match="missing label"):
        check_ownership(manifest(image()))


def test_oci_label_for_another_server(oci):
    oci.push("acme/db", "1.0.0", {LABEL: "io.github.mallory/db"})
    with pytest.raises(OwnershipError, match=r"is 'io.github.mallory/db', not 'io.github.acme/db'"):
        check_ownership(manifest(image()))


def test_oci_unknown_tag_and_disallowed_registry(oci):
    with pytest.raises(OwnershipError, match=r"acme/db:2.0.0: the manifest was not found"):
        check_ownership(manifest(image(f"{OCI_HOST}/acme/db:2.0.0")))
    with pytest.raises(OwnershipError, match=r"OCI registry evil.example is not allowed"):
        check_ownership(manifest(image("evil.example/acme/db:1.0.0")))


def test_oci_private_registry_credentials_for_the_token(oci, settings):
    oci.basic = basic("robot:s3cret")
    oci.push("acme/db", "1.0.0", {LABEL: NAME})
    with pytest.raises(OwnershipError, match=r"a registry pull token answered HTTP 401"):
        check_ownership(manifest(image()))
    settings.MCP_INDEX_OWNERSHIP_OCI_AUTH = {OCI_HOST: "robot:s3cret"}
    check_ownership(manifest(image()))


def test_oci_wildcard_registry_rule(oci, settings):
    settings.MCP_INDEX_OWNERSHIP_OCI_REGISTRIES = {"*.example.test": oci.server.url}
    oci.push("acme/db", "1.0.0", {LABEL: NAME})
    check_ownership(manifest(image()))


@pytest.mark.parametrize(
    ("realm", "refusal"),
    [
        ("http://127.0.0.1:{port}/token", "only https URLs are fetched"),  # an internal service
        ("https://127.0.0.1:{port}/token", "IP address literals are not allowed"),
        ("https://auth.internal.test/token", "private or reserved address"),  # 10.0.0.7
        ("https://auth6.internal.test/token", "private or reserved address"),  # ::127.0.0.1
        ("http://169.254.169.254/latest/api/token", "only https URLs are fetched"),
    ],
)
def test_oci_token_realm_goes_through_the_ssrf_guard(oci, http_server, settings, realm, refusal):
    internal = http_server()  # what the realm tries to reach: nothing may arrive there
    internal.route("/token", Reply.json({"token": PULL_TOKEN}))
    settings.MCP_INDEX_OUTBOUND_HOSTS = {"auth.internal.test": "10.0.0.7",
                                         "auth6.internal.test": "::127.0.0.1"}
    oci.realm = realm.format(port=internal.port)
    oci.push("acme/db", "1.0.0", {LABEL: NAME})
    with pytest.raises(OwnershipError) as err:
        check_ownership(manifest(image()))
    assert err.value.message.startswith(
        f"OCI image {OCI_HOST}/acme/db:1.0.0: could not fetch a registry pull token: ")
    assert refusal in err.value.message
    assert internal.requests == []
    assert [r.path for r in oci.server.requests] == ["/v2/acme/db/manifests/1.0.0"]


def test_oci_token_realm_on_a_public_host_is_fetched_through_the_guard(oci, files, settings):
    """A realm on another origin (Docker Hub's auth.docker.io) is fetched, pinned and checked."""
    files.route("/token", Reply.json({"token": PULL_TOKEN}))
    oci.realm = f"https://{FILES_HOST}:{files.port}/token"
    oci.push("acme/db", "1.0.0", {LABEL: NAME})
    check_ownership(manifest(image()))
    assert [r.path.split("?")[0] for r in files.requests] == ["/token"]


def test_oci_registry_named_after_the_image_host_is_guarded(oci, settings):
    """`"*.pkg.dev": "https://{host}"` lets the publisher pick the host: it gets no trust."""
    settings.MCP_INDEX_OWNERSHIP_OCI_REGISTRIES = {"*.example.test": "https://{host}"}
    settings.MCP_INDEX_OUTBOUND_HOSTS = {OCI_HOST: "10.0.0.7"}
    with pytest.raises(OwnershipError, match=(
            f"could not fetch the manifest: {OCI_HOST} resolves to a private or reserved")):
        check_ownership(manifest(image()))


def test_oci_blob_redirect_to_an_internal_address_is_refused(oci, http_server):
    internal = http_server()
    internal.route("/blob", Reply(body=b"{}"))
    oci.push("acme/db", "1.0.0", {LABEL: NAME})
    digest = "sha256:" + hashlib.sha256(
        json.dumps({"os": "linux", "config": {"Labels": {LABEL: NAME}}}).encode()).hexdigest()
    oci.server.route(f"/v2/acme/db/blobs/{digest}",
                     Reply(status=307, headers={"Location": f"{internal.url}/blob"}))
    with pytest.raises(OwnershipError, match="could not fetch the image config: only https URLs"):
        check_ownership(manifest(image()))
    assert internal.requests == []


@pytest.mark.parametrize(
    ("identifier", "extra", "expected"),
    [
        ("docker.io/mcp/filesystem:1.0.2", {}, "docker.io/mcp/filesystem:1.0.2"),
        ("ghcr.io/acme/db", {"version": "2.1.0"}, "ghcr.io/acme/db:2.1.0"),
        ("busybox", {}, "docker.io/library/busybox:latest"),
        ("acme/db", {"registryBaseUrl": "https://quay.io", "version": "3"}, "quay.io/acme/db:3"),
        ("localhost:5000/acme/db:dev", {}, "localhost:5000/acme/db:dev"),
        ("ghcr.io/acme/db@sha256:" + "a" * 64, {}, "ghcr.io/acme/db@sha256:" + "a" * 64),
    ],
)
def test_image_references(identifier, extra, expected):
    ref = PackageRef.from_manifest({"registryType": "oci", "identifier": identifier, **extra})
    assert str(parse_image(ref)) == expected


# --- MCPB -------------------------------------------------------------------------------

BUNDLE = b"PK\x03\x04 not really a zip, but bytes all the same" * 100


def bundle(path: str = "/acme/db/releases/download/v1/db.mcpb", sha=None, host=FILES_HOST, port=0):
    return {
        "registryType": "mcpb",
        "identifier": f"https://{host}:{port}{path}",
        "fileSha256": sha if sha is not None else hashlib.sha256(BUNDLE).hexdigest(),
    }


def test_mcpb_hash_matches(files):
    files.route("/acme/db/releases/download/v1/db.mcpb", Reply(body=BUNDLE))
    check_ownership(manifest(bundle(port=files.port)))


def test_mcpb_follows_release_redirect_to_the_file(files):
    files.route(
        "/acme/db/releases/download/v1/db.mcpb", Reply(status=302, headers={"Location": "/objects/123"})
    )
    files.route("/objects/123", Reply(body=BUNDLE))
    check_ownership(manifest(bundle(port=files.port)))


def test_mcpb_hash_mismatch(files):
    files.route("/acme/db/releases/download/v1/db.mcpb", Reply(body=BUNDLE + b"tampered"))
    with pytest.raises(OwnershipError) as err:
        check_ownership(manifest(bundle(port=files.port)))
    actual = hashlib.sha256(BUNDLE + b"tampered").hexdigest()
    assert err.value.message == (
        f"MCPB package https://{FILES_HOST}:{files.port}/acme/db/releases/download/v1/db.mcpb: "
        f"fileSha256 is {hashlib.sha256(BUNDLE).hexdigest()} but the file hashes to {actual}"
    )


def test_mcpb_requires_a_hash_and_an_allowed_host(files):
    with pytest.raises(OwnershipError, match=r"fileSha256 .* is required"):
        check_ownership(manifest(bundle(sha="", port=files.port)))
    with pytest.raises(OwnershipError, match=f"accepted from {FILES_HOST} only"):
        check_ownership(manifest(bundle(host="evil.example", port=files.port)))
    assert files.requests == []


def test_mcpb_redirect_to_loopback_ip_is_refused(files):
    files.route(
        "/acme/db/releases/download/v1/db.mcpb",
        Reply(status=302, headers={"Location": f"https://127.0.0.1:{files.port}/objects/1"}),
    )
    files.route("/objects/1", Reply(body=BUNDLE))
    with pytest.raises(OwnershipError, match="IP address literals are not allowed"):
        check_ownership(manifest(bundle(port=files.port)))
    assert [r.path for r in files.requests] == ["/acme/db/releases/download/v1/db.mcpb"]


def test_mcpb_oversize_and_slow_downloads_are_refused(files, settings):
    files.route("/acme/db/releases/download/v1/db.mcpb", Reply(body=BUNDLE))
    settings.MCP_INDEX_OWNERSHIP_MCPB_MAX_BYTES = 1024
    with pytest.raises(OwnershipError, match="larger than 1024 bytes"):
        check_ownership(manifest(bundle(port=files.port)))
    settings.MCP_INDEX_OWNERSHIP_MCPB_MAX_BYTES = 10 * 1024 * 1024
    settings.MCP_INDEX_OWNERSHIP_TIMEOUT_SECONDS = 1
    files.route("/acme/db/releases/download/v1/db.mcpb", Reply(body=BUNDLE, delay=2))
    with pytest.raises(OwnershipError, match="took too long"):
        check_ownership(manifest(bundle(port=files.port)))


def test_mcpb_plain_http_and_private_targets_are_refused(files, settings):
    doc = bundle(port=files.port)
    doc["identifier"] = doc["identifier"].replace("https://", "http://")
    with pytest.raises(OwnershipError, match="only https URLs"):
        check_ownership(manifest(doc))
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = []
    with pytest.raises(OwnershipError, match="private or reserved address"):
        check_ownership(manifest(bundle(port=files.port)))
