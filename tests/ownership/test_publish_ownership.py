"""Ownership checks run at publish time: a failure is a 400 naming the package, nothing written."""

from __future__ import annotations

import pytest

from registry.models import ServerVersion
from tests.conftest import manifest
from tests.proofs.loopback import Reply

pytestmark = pytest.mark.django_db

NAME = "io.github.acme/db"


def npm_manifest():
    return manifest(NAME, "1.2.0", packages=[{
        "registryType": "npm", "identifier": "@acme/db", "version": "1.2.0",
        "transport": {"type": "stdio"}}])


def test_publish_refused_when_the_package_does_not_name_the_server(publisher, npm):
    npm.route("/@acme%2Fdb/1.2.0", Reply.json({"name": "@acme/db", "version": "1.2.0"}))
    response = publisher.publish(npm_manifest())
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "@acme/db" in message and "mcpName" in message
    assert not ServerVersion.objects.exists()


def test_publish_accepted_when_the_package_names_the_server(publisher, npm):
    body = {"name": "@acme/db", "version": "1.2.0", "mcpName": NAME}
    npm.route("/@acme%2Fdb/1.2.0", Reply.json(body))
    response = publisher.publish(npm_manifest())
    assert response.status_code == 200, response.content
    assert ServerVersion.objects.filter(name=NAME).exists()


def test_publish_refused_when_the_image_registry_sends_a_private_token_realm(
        publisher, oci, http_server):
    internal = http_server()  # e.g. a metadata or admin service next to the registry
    internal.route("/token", Reply.json({"token": "stolen"}))
    oci.realm = f"{internal.url}/token"
    oci.push("acme/db", "1.0.0", {"io.modelcontextprotocol.server.name": NAME})
    response = publisher.publish(manifest(NAME, "1.0.0", packages=[{
        "registryType": "oci", "identifier": "registry.example.test/acme/db:1.0.0",
        "transport": {"type": "stdio"}}]))
    assert response.status_code == 400
    message = response.json()["errors"][0]["message"]
    assert "could not fetch a registry pull token: only https URLs are fetched" in message
    assert internal.requests == []
    assert not ServerVersion.objects.exists()
