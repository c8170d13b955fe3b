"""is_latest follows the official rules; status changes through the PATCH endpoints."""

from __future__ import annotations

import pytest

from registry.models import AuditEvent, ServerVersion

pytestmark = pytest.mark.django_db

NAME = "io.github.acme/db"
PATH = "/servers/io.github.acme%2Fdb"


def latest_version():
    return ServerVersion.objects.get(name=NAME, is_latest=True).version


@pytest.mark.parametrize(("order", "expected"), [
    (["1.10.0", "2.0.0-rc.1"], "2.0.0-rc.1"),
    (["2.0.0-rc.1", "1.10.0"], "2.0.0-rc.1"),
    (["1.2.0", "1.10.0", "1.9.0"], "1.10.0"),
    (["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11"], "1.0.0-beta.11"),
    (["1.0.0-rc.1", "1.0.0"], "1.0.0"),
    (["20240101", "20230101"], "20230101"),  # neither is semver: later publish wins
    (["1.0.0", "snapshot"], "1.0.0"),  # semver beats non-semver
    (["snapshot", "0.0.1"], "0.0.1"),
    (["1.2", "1.1"], "1.1"),  # two-part versions are not semver here
])
def test_latest_follows_official_precedence(publish, order, expected):
    for version in order:
        publish(NAME, version)
    assert latest_version() == expected
    assert ServerVersion.objects.filter(name=NAME, is_latest=True).count() == 1


def test_deleting_the_latest_moves_the_flag_and_restoring_moves_it_back(publisher, publish):
    for version in ("1.0.0", "1.1.0", "2.0.0"):
        publish(NAME, version)
    response = publisher.send("PATCH", f"{PATH}/versions/2.0.0/status",
                              {"status": "deleted", "statusMessage": "published by mistake"})
    assert response.status_code == 200
    meta = response.json()["_meta"]["io.modelcontextprotocol.registry/official"]
    assert meta["status"] == "deleted" and meta["isLatest"] is False
    assert meta["statusMessage"] == "published by mistake"
    assert latest_version() == "1.1.0"
    publisher.send("PATCH", f"{PATH}/versions/2.0.0/status", {"status": "active"})
    assert latest_version() == "2.0.0"


def test_when_every_version_is_deleted_the_highest_keeps_the_flag(publisher, publish):
    for version in ("1.0.0", "1.1.0"):
        publish(NAME, version)
    response = publisher.send("PATCH", f"{PATH}/status", {"status": "deleted"})
    assert response.status_code == 200
    body = response.json()
    assert body["updatedCount"] == 2
    assert {s["_meta"]["io.modelcontextprotocol.registry/official"]["status"]
            for s in body["servers"]} == {"deleted"}
    assert latest_version() == "1.1.0"


def test_status_change_bumps_updated_at_and_status_changed_at(publisher, publish):
    publish(NAME, "1.0.0")
    before = ServerVersion.objects.get(name=NAME)
    publisher.send("PATCH", f"{PATH}/versions/1.0.0/status", {"status": "deprecated"})
    after = ServerVersion.objects.get(name=NAME)
    assert after.updated_at > before.updated_at
    assert after.status_changed_at > before.status_changed_at
    assert AuditEvent.objects.filter(action="registry.version.status_changed").count() == 1


def test_status_errors(publisher, api, publish):
    publish(NAME, "1.0.0")
    noop = publisher.send("PATCH", f"{PATH}/versions/1.0.0/status", {"status": "active"})
    assert noop.status_code == 400
    assert "No changes" in noop.json()["detail"]
    bad = publisher.send("PATCH", f"{PATH}/versions/1.0.0/status", {"status": "gone"})
    assert bad.status_code == 400
    msg = publisher.send("PATCH", f"{PATH}/versions/1.0.0/status",
                         {"status": "active", "statusMessage": "hi"})
    assert msg.status_code == 400
    long = publisher.send("PATCH", f"{PATH}/versions/1.0.0/status",
                          {"status": "deprecated", "statusMessage": "x" * 501})
    assert long.status_code == 422
    missing = publisher.send("PATCH", "/servers/io.github.acme%2Fnope/versions/1.0.0/status",
                             {"status": "deleted"})
    assert missing.status_code == 404
    assert api.send("PATCH", f"{PATH}/versions/1.0.0/status",
                    {"status": "deleted"}).status_code == 401
    assert ServerVersion.objects.get(name=NAME).status == "active"


def test_status_needs_permission_on_that_name(client, publish):
    from tests.support.api import Api
    from tests.support.tokens import bearer
    publish(NAME, "1.0.0")
    other = Api(client)
    other.token = bearer(["com.other/*"])
    response = other.send("PATCH", f"{PATH}/versions/1.0.0/status", {"status": "deleted"})
    assert response.status_code == 403


def test_admin_edit_replaces_manifest_but_not_name_or_version(client, publish):
    from tests.support.api import Api
    from tests.support.manifests import manifest
    from tests.support.tokens import bearer
    publish(NAME, "1.0.0", description="typo hre")
    admin = Api(client)
    admin.token = bearer(["*"])
    response = admin.send("PUT", f"{PATH}/versions/1.0.0", manifest(NAME, "1.0.0",
                                                                   description="typo here"))
    assert response.status_code == 200
    assert response.json()["server"]["description"] == "typo here"
    assert admin.send("PUT", f"{PATH}/versions/1.0.0",
                      manifest("io.github.acme/other", "1.0.0")).status_code == 400
    assert admin.send("PUT", f"{PATH}/versions/1.0.0",
                      manifest(NAME, "2.0.0")).status_code == 400
    publisher_only = Api(client)
    publisher_only.token = bearer(["io.github.acme/*"], edit=False)
    assert publisher_only.send("PUT", f"{PATH}/versions/1.0.0",
                               manifest(NAME, "1.0.0")).status_code == 403
