"""Hostile values in every field of publish, validate, attestations, curation and auth.

Each case puts one value from tests/fuzz/hostile.py into one field of an otherwise valid
request (or replaces the whole body) and sends it to the live server. Whatever it is, the
answer is not a 5xx, a refusal (4xx) writes nothing (no row in any table, no audit event),
and after an accepted write every list still reads. Derandomised, a fixed number of cases
per target.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import requests
from django.apps import apps
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.fuzz.hostile import Raw, describe, encode, hostile_strings, hostile_values
from tests.fuzz.report import totals
from tests.fuzz.seed import (
    POLICY,
    PRINCIPAL,
    PRIVATE_CATALOG,
    PUBLIC_CATALOG,
    SERVER,
    TRUST_ROOT,
    UPSTREAM,
    Seeded,
)
from tests.fuzz.server import FuzzServer
from tests.support.manifests import manifest

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

EXAMPLES = 20
EXT = "/v0.1/x/io.mcpindex"
NAME = quote(SERVER, safe="")
PROOF = {"domain": "example.com", "timestamp": "2025-01-01T00:00:00Z", "signed_timestamp": "00"}
FULL_MANIFEST = manifest(
    "io.github.acme/hostile", "1.0.0", title="Hostile", websiteUrl="https://acme.example",
    repository={"url": "https://github.com/acme/hostile", "source": "github"},
    icons=[{"src": "https://acme.example/icon.png", "mimeType": "image/png", "sizes": ["48x48"]}],
    remotes=[{"type": "streamable-http", "url": "https://acme.example/mcp",
              "headers": [{"name": "X-Key", "isSecret": True}]}],
    packages=[{"registryType": "npm", "identifier": "@acme/hostile", "version": "1.0.0",
               "transport": {"type": "stdio"},
               "environmentVariables": [{"name": "TOKEN", "description": "a token"}]}],
    _meta={"io.modelcontextprotocol.registry/publisher-provided": {"tool": "fuzz"}})
EDIT_MANIFEST = manifest(SERVER, "1.0.0", description="Edited")
WHOLE: tuple[Any, ...] = ()  # the key path of the body itself


@dataclass(frozen=True)
class Target:
    method: str
    path: str
    body: Any = None
    token: bool = True
    query: bool = False  # the hostile value goes into the query string instead
    fields: tuple[Any, ...] = field(default=())  # key paths, or query parameter names

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every field of a body as a key path (`("remotes", 0, "url")`), leaves and containers."""
    out: list[tuple[Any, ...]] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, value in items:
        out.append((*prefix, key))
        out += _paths(value, (*prefix, key))
    return out


def _place(body: Any, where: tuple[Any, ...], value: Any) -> Any:
    if where == WHOLE:
        return value
    out = copy.deepcopy(body)
    node = out
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    return out


def _name(where: tuple[Any, ...]) -> str:
    return "/".join(map(str, where)) if where != WHOLE else "<whole body>"


def _target(method: str, path: str, body: Any = None, **kw: Any) -> Target:
    fields = tuple(kw.pop("fields", ())) or ((*_paths(body), WHOLE) if body is not None else ())
    return Target(method, path, body, fields=fields, **kw)


TARGETS = [
    _target("POST", "/v0.1/publish", FULL_MANIFEST),
    _target("PUT", f"/v0.1/servers/{NAME}/versions/1.0.0", EDIT_MANIFEST),
    _target("PATCH", f"/v0.1/servers/{NAME}/versions/1.1.0/status",
            {"status": "deprecated", "statusMessage": "old"}),
    _target("PATCH", f"/v0.1/servers/{NAME}/status", {"status": "deprecated", "statusMessage": "x"}),
    _target("POST", "/v0.1/validate", FULL_MANIFEST, token=False),
    _target("POST", f"{EXT}/servers/{NAME}/versions/1.0.0/attestations",
            {"kind": "dsse", "content": {"payloadType": "application/vnd.in-toto+json",
                                         "payload": "e30=", "signatures": [{"sig": "AA=="}]}},
            token=False),
    _target("POST", f"{EXT}/principals", {"id": "bob", "kind": "sigstore", "displayName": "Bob",
                                          "sigstore": {"issuer": "https://issuer.example",
                                                       "subject": "bob@example.com",
                                                       "trustRoot": TRUST_ROOT}}),
    _target("PATCH", f"{EXT}/policies/{POLICY}", {"title": "T", "threshold": 1,
                                                  "principals": [PRINCIPAL],
                                                  "verdicts": ["approved"]}),
    _target("POST", f"{EXT}/upstreams", {"name": "second", "base_url": "https://r.example/v0.1",
                                         "include_patterns": ["io.github.*"], "priority": 1,
                                         "auth_header": "Bearer x"}),
    _target("PATCH", f"{EXT}/upstreams/{UPSTREAM}", {"page_size": 10, "exclude_patterns": ["a*"]}),
    _target("POST", f"{EXT}/catalogs", {"slug": "hostile", "title": "H", "sources": ["local"],
                                        "trust_policy": POLICY}),
    _target("PATCH", f"{EXT}/catalogs/{PUBLIC_CATALOG}", {"title": "T", "description": "D"}),
    _target("PUT", f"{EXT}/catalogs/{PUBLIC_CATALOG}/rules",
            {"rules": [{"action": "allow", "name_pattern": "io.github.*", "note": "n"}]}),
    _target("POST", f"{EXT}/catalogs/{PUBLIC_CATALOG}/pins", {"name": SERVER, "version": "1.1.0",
                                                              "note": "n"}),
    _target("PUT", f"{EXT}/catalogs/{PUBLIC_CATALOG}/overlays",
            {"name": SERVER, "tags": ["a"], "notes": "n", "install_notes": "i", "featured": True}),
    _target("POST", f"{EXT}/catalogs/{PRIVATE_CATALOG}/reviews",
            {"name": SERVER, "version": "1.0.0", "decision": "approve", "reason": "r"}),
    _target("POST", f"{EXT}/tokens", {"name": "ci", "patterns": ["io.github.acme/*"],
                                      "expires_in_days": 30}),
    _target("POST", "/v0.1/auth/dns", PROOF, token=False),
    _target("POST", "/v0.1/auth/http", PROOF, token=False),
    _target("POST", "/v0.1/auth/github-oidc", {"oidc_token": "a.b.c"}, token=False),
    _target("POST", "/v0.1/auth/github-at", {"github_token": "gho_x"}, token=False),
    _target("GET", "/v0.1/servers", query=True, token=False,
            fields=("search", "cursor", "version", "updated_since", "limit", "include_deleted")),
    _target("GET", f"/c/{PUBLIC_CATALOG}/v0.1/servers", query=True, token=False,
            fields=("search", "cursor", "version", "updated_since", "limit")),
    _target("GET", f"{EXT}/policies/{POLICY}/evaluate", query=True, token=False,
            fields=("name", "version")),
]


def _counts() -> dict[str, int]:
    """Rows in every table the apps own (content types and permissions aside)."""
    return {m._meta.label: m._default_manager.count() for m in apps.get_models()
            if m._meta.managed and m._meta.app_label not in ("contenttypes", "auth", "sessions")}


def _query(value: Any) -> str:
    if isinstance(value, Raw):
        return quote(value.text, safe="")
    text = value if isinstance(value, str) else json.dumps(value)
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _send(server: FuzzServer, target: Target, where: Any, value: Any) -> requests.Response:
    headers = dict(server.admin_headers) if target.token else {}
    url = server.url + target.path
    if target.query:
        return requests.get(f"{url}?{where}={_query(value)}", headers=headers, timeout=120)
    headers["Content-Type"] = "application/json"
    return requests.request(target.method, url, data=encode(_place(target.body, where, value)),
                            headers=headers, timeout=120)


def _readable(server: FuzzServer) -> list[str]:
    """After an accepted write, the reads that serve it still answer."""
    bad = []
    for path in ("/v0.1/servers?limit=100", f"/c/{PUBLIC_CATALOG}/v0.1/servers?limit=100",
                 f"/v0.1/servers/{NAME}/versions", f"{EXT}/catalogs/{PUBLIC_CATALOG}"):
        response = requests.get(server.url + path, headers=server.admin_headers, timeout=60)
        if response.status_code >= 500:
            bad.append(f"GET {path} -> {response.status_code}")
    return bad


TOTALS = totals("hostile")


@pytest.mark.parametrize("target", TARGETS, ids=[t.label for t in TARGETS])
def test_hostile_values_are_refused_cleanly(fuzz_server: FuzzServer, seeded: Seeded,
                                            django_db_blocker: Any, target: Target) -> None:
    errors: dict[str, str] = {}
    partial: dict[str, str] = {}
    started = time.monotonic()
    statuses: Counter[int] = Counter()

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(where=st.sampled_from(target.fields), value=hostile_values())
    def run(where: Any, value: Any) -> None:
        with django_db_blocker.unblock():
            before = _counts()
            response = _send(fuzz_server, target, where, value)
            after = _counts()
        statuses[response.status_code] += 1
        field_name = where if target.query else _name(where)
        case = f"{field_name} = {describe(value)} -> {response.status_code}"
        if response.status_code >= 500:
            errors.setdefault(f"{field_name} {type(value).__name__}", case)
        if response.status_code >= 400 and after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            partial.setdefault(field_name, f"{case} wrote {changed}")
        if response.status_code < 400 and not target.query:
            for bad in _readable(fuzz_server):
                errors.setdefault(f"read after {field_name}", f"{case}; then {bad}")

    run()
    TOTALS.add(statuses, time.monotonic() - started)
    assert not partial, "refused, yet written:\n" + "\n".join(partial.values())
    assert not errors, "server errors:\n" + "\n".join(errors.values())


def test_hostile_strings_include_what_issue_12_names() -> None:
    """The strategy really produces NUL, lone surrogates and long strings (a guard on it)."""
    seen: set[str] = set()

    @settings(max_examples=200, derandomize=True, database=None)
    @given(hostile_strings())
    def collect(text: str) -> None:
        if "\x00" in text:
            seen.add("nul")
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            seen.add("surrogate")
        if len(text) > 2000:
            seen.add("long")

    collect()
    assert seen == {"nul", "surrogate", "long"}


def test_targets_cover_each_area() -> None:
    paths = " ".join(t.path for t in TARGETS)
    for area in ("/publish", "/validate", "/attestations", "/principals", "/policies",
                 "/upstreams", "/catalogs", "/auth/", "/tokens", "/servers/"):
        assert area in paths, area

