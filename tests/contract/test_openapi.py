"""Responses validate against ServerResponse / ServerList of the official OpenAPI spec."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.support.api import Api
from tests.support.data import EXAMPLES, SHARED, load_json
from tests.support.tokens import bearer

pytestmark = pytest.mark.django_db

SPEC = Path(__file__).resolve().parents[2] / "registry" / "spec" / "openapi.yaml"


@cache
def spec() -> dict:
    return yaml.safe_load(SPEC.read_text())


def validator(component: str) -> Draft202012Validator:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    registry = Registry().with_resource("urn:spec", resource)
    return Draft202012Validator({"$ref": f"urn:spec#/components/schemas/{component}"},
                                registry=registry)


def test_project_copy_of_the_spec_matches_shared():
    shared = SHARED / "spec" / "openapi.yaml"
    if shared.exists():
        assert shared.read_text() == SPEC.read_text()


def test_list_version_and_status_responses_match_the_spec(client):
    api = Api(client, "/v0.1")
    api.token = bearer(["*"])
    for path in EXAMPLES:
        assert api.publish(load_json(path)).status_code == 200
    server_list = api.get("/servers", limit=5).json()
    errors = list(validator("ServerList").iter_errors(server_list))
    assert not errors, errors[0].message
    first = server_list["servers"][0]["server"]
    name = first["name"].replace("/", "%2F")
    one = api.get(f"/servers/{name}/versions/latest").json()
    assert not list(validator("ServerResponse").iter_errors(one))
    versions = api.get(f"/servers/{name}/versions").json()
    assert not list(validator("ServerList").iter_errors(versions))
    bulk = api.send("PATCH", f"/servers/{name}/status",
                    {"status": "deprecated", "statusMessage": "use v2"}).json()
    assert not list(validator("AllVersionsStatusResponse").iter_errors(bulk))


def test_validator_rejects_a_wrong_shape():
    bad = {"servers": [{"server": {"name": "x"}, "_meta": {
        "io.modelcontextprotocol.registry/official": {"status": "gone"}}}]}
    assert list(validator("ServerList").iter_errors(bad))
