"""Every JSON body passes one boundary: NUL, lone surrogates, huge numbers and deep nesting
are refused with 400 problem+json before any view, service or database sees them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.hardening.conftest import EXT, NAME, QUOTED, VERSION, assert_problem
from tests.support.manifests import manifest

pytestmark = pytest.mark.django_db

_DESCRIBED = json.dumps(manifest(NAME, "2.0.0", description="@@"))
_EDITED = json.dumps(manifest(NAME, VERSION, description="@@"))
_V = f"/v0/servers/{QUOTED}/versions/{VERSION}"

# (id, method, path, body) — `@@` sits inside a string literal of the body.
ENDPOINTS = [
    ("publish", "POST", "/v0/publish", _DESCRIBED),
    ("publish-meta-key", "POST", "/v0/publish",
     json.dumps(manifest(NAME, "2.0.0", _meta={"io.github.acme/@@": {"a": 1}}))),
    ("edit", "PUT", _V, _EDITED),
    ("validate", "POST", "/v0/validate", _DESCRIBED),
    ("version-status", "PATCH", f"{_V}/status", '{"status":"deprecated","statusMessage":"@@"}'),
    ("server-status", "PATCH", f"/v0/servers/{QUOTED}/status",
     '{"status":"deprecated","statusMessage":"@@"}'),
    ("token-name", "POST", f"{EXT}/tokens", '{"name":"t@@","patterns":["io.github.acme/*"]}'),
    ("token-pattern", "POST", f"{EXT}/tokens", '{"name":"t","patterns":["io.github.acme/@@"]}'),
    ("auth-dns", "POST", "/v0/auth/dns",
     '{"domain":"acme@@.example","timestamp":"2025-01-01T00:00:00Z","signed_timestamp":"00"}'),
    ("auth-github-at", "POST", "/v0/auth/github-at", '{"github_token":"gho_@@"}'),
    ("attestation", "POST", f"{EXT}/servers/{QUOTED}/versions/{VERSION}/attestations",
     '{"kind":"dsse","content":{"payloadType":"x@@","payload":"","signatures":[]}}'),
    ("upstream-create", "POST", f"{EXT}/upstreams",
     '{"name":"up2","base_url":"https://up2.example/v0.1","auth_header":"Bearer @@"}'),
    ("upstream-name", "POST", f"{EXT}/upstreams", '{"name":"up@@","base_url":"https://a.example"}'),
    ("upstream-patch", "PATCH", f"{EXT}/upstreams/up", '{"include_patterns":["io.github.@@/*"]}'),
    ("upstream-sync", "POST", f"{EXT}/upstreams/up/sync", '{"full":false,"note":"@@"}'),
    ("catalog-create", "POST", f"{EXT}/catalogs", '{"slug":"new","title":"@@"}'),
    ("catalog-patch", "PATCH", f"{EXT}/catalogs/corp", '{"description":"@@"}'),
    ("rules", "PUT", f"{EXT}/catalogs/corp/rules",
     '{"rules":[{"action":"allow","name_pattern":"io.github.@@/*"}]}'),
    ("pin-note", "POST", f"{EXT}/catalogs/corp/pins",
     f'{{"name":"{NAME}","version":"{VERSION}","note":"@@"}}'),
    ("pin-name", "POST", f"{EXT}/catalogs/corp/pins", f'{{"name":"{NAME}@@","version":"1"}}'),
    ("overlay-tags", "PUT", f"{EXT}/catalogs/corp/overlays", f'{{"name":"{NAME}","tags":["@@"]}}'),
    ("overlay-name", "PUT", f"{EXT}/catalogs/corp/overlays", '{"name":"io.github.acme/@@"}'),
    ("review", "POST", f"{EXT}/catalogs/corp/reviews",
     f'{{"name":"{NAME}","version":"{VERSION}","decision":"approve","reason":"@@"}}'),
    ("review-name", "POST", f"{EXT}/catalogs/corp/reviews",
     '{"name":"io.github.acme/@@","decision":"reject"}'),
]
IDS = [e[0] for e in ENDPOINTS]
HOSTILE = {"nul": "\\u0000", "surrogate": "\\ud800", "low-surrogate": "a\\udc00b"}


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
@pytest.mark.parametrize(("_id", "method", "path", "body"), ENDPOINTS, ids=IDS)
def test_nul_and_lone_surrogates_are_refused(admin, world, unchanged, _id, method, path, body,
                                             char, django_capture_on_commit_callbacks):
    check = unchanged()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin.send(method, path, raw=body.replace("@@", char))
    problem = assert_problem(response, 400)
    assert "NUL" in problem["detail"] or "surrogate" in problem["detail"], problem
    assert problem["errors"][0]["location"].startswith("body"), problem
    assert callbacks == []  # nothing queued either (a sync, a rebuild)
    check()


DEEP = "[" * 10_000 + "]" * 10_000


@pytest.mark.parametrize(("_id", "method", "path", "body"), ENDPOINTS, ids=IDS)
def test_deep_nesting_is_refused_before_parsing(admin, world, unchanged, _id, method, path, body):
    check = unchanged()
    inside = body.replace("@@", "")[:-1] + f',"x":{DEEP}}}'  # the body's own fields, plus one
    for raw in (DEEP, '{"a":' * 5000 + "1" + "}" * 5000, inside):
        problem = assert_problem(admin.send(method, path, raw=raw), 400)
        assert "nested" in problem["detail"], problem
    check()


def test_nesting_up_to_the_limit_is_accepted(admin, world):
    doc = manifest(NAME, "2.0.0")
    nested: Any = 1
    for _ in range(60):
        nested = {"n": nested}
    doc["_meta"] = {"io.github.acme/deep": nested}
    response = admin.send("POST", "/v0/validate", doc)
    assert response.status_code == 200, response.content


NUMBERS = {
    "int-above-2^53": "9007199254740993",
    "int-below-minus-2^53": "-9007199254740993",
    "huge-int": "1" + "0" * 5000,
    "float-overflow": "1e400",
    "negative-overflow": "-1e400",
    "nan": "NaN",
    "infinity": "Infinity",
}
MANIFEST_ENDPOINTS = [("publish", "POST", "/v0/publish", "2.0.0"), ("edit", "PUT", _V, VERSION),
                      ("validate", "POST", "/v0/validate", "2.0.0")]


@pytest.mark.parametrize("number", NUMBERS.values(), ids=NUMBERS.keys())
@pytest.mark.parametrize(("_id", "method", "path", "version"), MANIFEST_ENDPOINTS,
                         ids=[e[0] for e in MANIFEST_ENDPOINTS])
def test_out_of_range_numbers_in_a_manifest_name_the_field(admin, world, unchanged, _id, method,
                                                           path, version, number):
    check = unchanged()
    doc = json.dumps(manifest(NAME, version, _meta={"io.github.acme/x": {"count": 0}}))
    raw = doc.replace('"count":0', f'"count":{number}').replace('"count": 0', f'"count": {number}')
    assert number in raw
    problem = assert_problem(admin.send(method, path, raw=raw), 400)
    assert problem["errors"][0]["location"] == 'body._meta["io.github.acme/x"].count', problem
    assert "count" in problem["detail"]
    check()


def test_numbers_in_range_are_kept_exactly(admin, world):
    doc = manifest(NAME, "2.0.0", _meta={"io.github.acme/x": {
        "max": 2**53 - 1, "min": -(2**53 - 1), "small": 1e-300, "big": 1.5e300}})
    response = admin.send("POST", "/v0/publish", doc)
    assert response.status_code == 200, response.content
    served = admin.get(f"/v0/servers/{QUOTED}/versions/2.0.0").json()["server"]["_meta"]
    assert served["io.github.acme/x"] == {"max": 2**53 - 1, "min": -(2**53 - 1),
                                          "small": 1e-300, "big": 1.5e300}


def test_an_attestation_with_a_huge_number_is_refused(admin, world, unchanged):
    check = unchanged()
    raw = '{"kind":"dsse","content":{"payloadType":"x","payload":"","signatures":[],"n":1e400}}'
    problem = assert_problem(admin.send(
        "POST", f"{EXT}/servers/{QUOTED}/versions/{VERSION}/attestations", raw=raw), 400)
    assert problem["errors"][0]["location"] == "body.content.n"
    check()


def test_invalid_utf8_is_refused(admin, world, unchanged):
    check = unchanged()
    raw = json.dumps(manifest(NAME, "2.0.0", description="@@")).encode().replace(b"@@", b"\xed\xa0\x80")
    assert_problem(admin.send("POST", "/v0/publish", raw=raw), 400)
    check()


def test_malformed_json_keeps_its_answer(admin, world):
    problem = assert_problem(admin.send("POST", "/v0/publish", raw="{nope"), 400)
    assert problem["detail"].startswith("Malformed JSON body")
