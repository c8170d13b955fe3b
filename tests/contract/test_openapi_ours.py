"""Our OpenAPI document is true: every route is in it, every path in it is a route, and a
real request to every operation answers as it says (status, content type, body schema)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from apidocs import document
from mcp_index_common import dsse
from mcp_index_common.statements import statement_bytes_for
from ops.http import API_PREFIXES
from ops.middleware import UNMATCHED_ROUTE
from registry.auth.jwt import issue_token
from registry.auth.permissions import EDIT, PUBLISH, Permission
from registry.models import ServerVersion
from tests.fuzz.openapi_check import problems
from tests.fuzz.seed import (
    PRINCIPAL,
    PRIVATE_CATALOG,
    SERVER,
    SERVER_SETTINGS,
    SPARE_TRUST_ROOT,
    UPSTREAM,
    Seeded,
    admin_token,
    path_slug,
    seed,
)
from tests.support.manifests import manifest

SITE_PATHS = {"/healthz", "/readyz", "/metrics", "/openapi.json", "/openapi.yaml", "/docs",
              "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/c/{}"}
HTTP_METHODS = ("get", "put", "post", "patch", "delete")
_GROUP = re.compile(r"\(\?P<\w+>[^()]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?\w+>")
_PARAM = re.compile(r"\{[^}]+\}")


def _doc() -> dict[str, Any]:
    return document.document()


# --- the document itself ---

def test_the_document_is_valid_openapi_3_1() -> None:
    doc = _doc()
    OPENAPI_31_VALIDATOR.validate(doc)
    ids = [op["operationId"] for _, _, op in document.operations(doc)]
    assert len(ids) == len(set(ids)), "operationIds are unique"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves_and_every_operation_says_who_may_call() -> None:
    doc = _doc()
    for ref in set(_refs(doc)):
        assert ref.startswith("#/components/"), ref
        section, name = ref.removeprefix("#/components/").split("/", 1)
        assert name in doc["components"][section], ref
    for method, path, op in document.operations(doc):
        assert "security" in op, f"{method} {path} must state its security"
        assert op.get("summary"), f"{method} {path} needs a summary"
        if path.startswith(API_PREFIXES):
            codes = set(op["responses"])
            assert "429" in codes, f"{method} {path}: every API path can be rate-limited"
            assert "400" in codes, f"{method} {path}: every API path refuses a NUL in its URL"
        if "requestBody" in op and "application/json" in op["requestBody"]["content"]:
            assert {"400", "413"} <= set(op["responses"]), f"{method} {path}: body errors"


def test_the_standard_schemas_are_the_official_ones() -> None:
    official = yaml.safe_load(document.OFFICIAL_SPEC.read_text())["components"]["schemas"]
    ours = _doc()["components"]["schemas"]
    assert {k: ours[k] for k in official} == official


def test_extension_paths_follow_the_configured_namespace(settings: Any) -> None:
    settings.MCP_INDEX_NAMESPACE = "com.example.registry"
    paths = _doc()["paths"]
    assert "/v0.1/x/com.example.registry/tokens" in paths
    assert not [p for p in paths if "/x/io.mcpindex/" in p]


# --- the routes ---

def _template(route: str) -> str:
    route = _GROUP.sub("{}", route)
    route = _CONVERTER.sub("{}", route)
    return "/" + route.replace("^", "").replace("$", "").replace("\\", "")


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _view_methods(pattern: URLPattern) -> set[str]:
    view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
    if view is None:
        return {"get"}  # the site's function views (probes, metrics, this document) are GETs
    return {m for m in HTTP_METHODS if hasattr(view, m)}


def _routes() -> dict[str, set[str]]:
    """Normalised template (`/v0.1/servers/{}/versions`) -> methods, for API and site paths."""
    out: dict[str, set[str]] = {}
    for route, pattern in _walk(get_resolver().url_patterns):
        template = _template(route)
        if pattern.name == UNMATCHED_ROUTE:
            continue
        if template.startswith(API_PREFIXES) or template in SITE_PATHS:
            out.setdefault(template, set()).update(_view_methods(pattern))
    return out


def _documented() -> dict[str, set[str]]:
    return {_PARAM.sub("{}", path): {m for m in HTTP_METHODS if m in item}
            for path, item in _doc()["paths"].items()}


def test_every_api_route_is_documented_with_its_methods() -> None:
    routes, documented = _routes(), _documented()
    missing = sorted(set(routes) - set(documented))
    assert not missing, f"routes missing from the API document: {missing}"
    wrong = {p: (sorted(routes[p]), sorted(documented[p])) for p in routes
             if routes[p] != documented[p]}
    assert not wrong, f"methods differ (route, document): {wrong}"


def test_every_documented_path_is_a_route() -> None:
    extra = sorted(set(_documented()) - set(_routes()))
    assert not extra, f"documented paths that no route serves: {extra}"
    for path in _doc()["paths"]:  # and a concrete URL reaches a real view, not the catch-all
        url = _PARAM.sub("1", path).replace("/servers/1/", "/servers/a/b/")
        assert resolve(url).url_name != UNMATCHED_ROUTE, path


# --- what the server says about it ---

def test_served_as_json_and_as_yaml(client: Client) -> None:
    as_json = client.get("/openapi.json")
    assert as_json.status_code == 200 and as_json["Content-Type"] == "application/json"
    assert as_json.json() == _doc()
    as_yaml = client.get("/openapi.yaml")
    assert as_yaml.status_code == 200 and as_yaml["Content-Type"].startswith("application/yaml")
    assert yaml.safe_load(as_yaml.content) == _doc()
    assert b"&id0" not in as_yaml.content  # no YAML aliases for shared parts


def test_the_docs_page_renders_every_operation_without_anything_from_elsewhere(client: Client) -> None:
    response = client.get("/docs")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    for _, _, op in document.operations():
        if "x-same-as" not in op:  # copies at other bases are listed under their source
            assert f'id="{op["operationId"]}"' in html, op["operationId"]
    assert "<script" not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html), "nothing loads from elsewhere"
    assert "script-src 'self'" in response["Content-Security-Policy"]


# --- a representative request per operation validates ---

@dataclass(frozen=True)
class Req:
    status: int
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    path: dict[str, str] = field(default_factory=dict)
    token: str | None = "admin"  # admin | publisher | None


def _envelope(version: ServerVersion) -> dict[str, Any]:
    payload = statement_bytes_for(server_name=version.name, version=version.version,
                                  sha256=version.digest)
    return dsse.envelope_sign(payload=payload, keys=[ed25519.Ed25519PrivateKey.generate()]).as_json()


BAD_PROOF = {"domain": "example.com", "timestamp": "2000-01-01T00:00:00Z", "signed_timestamp": "00"}
REQUESTS: dict[str, Req] = {
    "listServers": Req(200, query={"limit": "1"}, token=None),
    "searchServers": Req(200, query={"q": "weather forecast", "limit": "2"}, token=None),
    "listServerVersions": Req(200, token=None),
    "getServerVersion": Req(200, path={"version": "latest"}, token=None),
    "editServerVersion": Req(200, body=manifest(SERVER, "1.0.0", description="Edited")),
    "setVersionStatus": Req(200, body={"status": "deprecated", "statusMessage": "use 1.1.0"}),
    "setServerStatus": Req(200, body={"status": "deprecated"}),
    "publishServer": Req(200, body=manifest(SERVER, "2.0.0")),
    "validateServer": Req(200, body=manifest(SERVER, "2.0.0"), token=None),
    "health": Req(200, token=None),
    "ping": Req(200, token=None),
    "version": Req(200, token=None),
    "loginAnonymous": Req(200, token=None),
    "loginHttp": Req(401, body=BAD_PROOF, token=None),
    "loginDns": Req(401, body=BAD_PROOF, token=None),
    "loginGitHubOidc": Req(401, body={"oidc_token": "not.a.jwt"}, token=None),
    "loginOidc": Req(401, body={"oidc_token": "not.a.jwt"}, token=None),
    "loginGitHubToken": Req(401, body={"github_token": "gho_nothing"}, token=None),
    "whoami": Req(200),
    "listTokens": Req(200),
    "createToken": Req(201, body={"name": "ci", "patterns": ["io.github.acme/*"],
                                  "expires_in_days": 30}, token="publisher"),
    "revokeToken": Req(204),
    "listAttestations": Req(200, token=None),
    "submitAttestation": Req(201, body="envelope", token=None),
    "getVersionTools": Req(200, path={"version": "latest"}, token=None),
    "probeVersion": Req(202, body={}),
    "listPrincipals": Req(200, token=None),
    "createPrincipal": Req(201, body="new-key-principal"),
    "getPrincipal": Req(200, token=None),
    "updatePrincipal": Req(200, body={"displayName": "Alice A.", "expiresAt": "2099-01-01T00:00:00Z"}),
    "deletePrincipal": Req(204, path={"slug": "ci"}),
    "listTrustRoots": Req(200, token=None),
    "createTrustRoot": Req(201, body={"id": "other", "name": "Other", "kind": "production"}),
    "getTrustRoot": Req(200, token=None),
    "updateTrustRoot": Req(200, body={"name": "Sigstore public good", "active": True}),
    "deleteTrustRoot": Req(204, path={"slug": SPARE_TRUST_ROOT}),
    "listPolicies": Req(200, token=None),
    "createPolicy": Req(201, body={"id": "new-policy", "title": "New", "threshold": 1,
                                   "principals": [PRINCIPAL]}),
    "getPolicy": Req(200, token=None),
    "updatePolicy": Req(200, body={"title": "Renamed", "verdicts": []}),
    "deletePolicy": Req(204),
    "evaluatePolicy": Req(200, query={"name": SERVER, "version": "1.0.0"}, token=None),
    "listUpstreams": Req(200),
    "createUpstream": Req(201, body={"name": "second", "base_url": "https://registry.example/v0.1"}),
    "getUpstream": Req(200),
    "updateUpstream": Req(200, body={"priority": 5, "enabled": False}),
    "deleteUpstream": Req(204),
    "listUpstreamRuns": Req(200),
    "listUpstreamConflicts": Req(200),
    "syncUpstream": Req(202, body={"full": True}),
    "listCatalogs": Req(200, token=None),
    "createCatalog": Req(201, body={"slug": "new", "title": "New", "public": False}),
    "getCatalog": Req(200, token=None),
    "updateCatalog": Req(200, body={"title": "Featured servers"}),
    "getCatalogRules": Req(200, token=None),
    "replaceCatalogRules": Req(200, body={"rules": [{"action": "allow", "namespace": "io.github.*"},
                                                    {"action": "deny", "kind": "package"}]}),
    "pinCatalogServer": Req(200, body={"name": SERVER, "version": "1.1.0", "note": "tested"}),
    "setCatalogOverlay": Req(200, body={"name": SERVER, "tags": ["weather"], "featured": True}),
    "listCatalogReviews": Req(200, path={"slug": PRIVATE_CATALOG}),
    "decideCatalogReview": Req(201, path={"slug": PRIVATE_CATALOG},
                               body={"name": SERVER, "version": "1.0.0", "decision": "approve",
                                     "reason": "reviewed"}),
    "rebuildCatalog": Req(202),
    "listFeeds": Req(200),
    "createFeed": Req(201, body={"catalog": PRIVATE_CATALOG, "name": "laptop"}),
    "revokeFeed": Req(200),
    "resourceMetadata": Req(200, token=None),
    "catalogResourceMetadata": Req(200, path={"slug": PRIVATE_CATALOG}, token=None),
    "healthz": Req(200, token=None),
    "readyz": Req(200, token=None),
    "metrics": Req(200, token=None),
    "openapiJson": Req(200, token=None),
    "openapiYaml": Req(200, token=None),
    "apiDocs": Req(200, token=None),
}

# Refusals, each checked against the document too (one of each kind of problem answer).
ERRORS: list[tuple[str, str, Req]] = [
    ("GET", "/v0.1/servers/{serverName}/versions", Req(404, path={"serverName": "io.github.x/none"},
                                                        token=None)),
    ("GET", "/v0.1/servers", Req(422, query={"limit": "1000"}, token=None)),
    ("GET", "/v0.1/servers", Req(400, query={"cursor": "not-a-cursor"}, token=None)),
    ("GET", "/v0.1/x/io.mcpindex/search", Req(400, query={"cursor": "s1.e30.AAAA"}, token=None)),
    ("GET", "/v0.1/x/io.mcpindex/search", Req(422, query={"transport": "carrier-pigeon"},
                                              token=None)),
    ("POST", "/v0.1/publish", Req(401, body=manifest(SERVER, "3.0.0"), token=None)),
    ("POST", "/v0.1/publish", Req(403, body=manifest("io.github.other/x", "1.0.0"), token="publisher")),
    ("POST", "/v0.1/publish", Req(422, body={"name": SERVER, "version": "9"})),
    ("POST", "/v0.1/publish", Req(400, body=manifest(SERVER, "1.0.0"))),
    ("POST", "/v0.1/publish", Req(400, body="{not json")),
    ("PUT", "/v0.1/x/io.mcpindex/catalogs/{slug}/rules", Req(400, body={"rules": [{"action": "?"}]})),
    ("GET", "/c/{slug}/v0.1/servers", Req(401, path={"slug": PRIVATE_CATALOG}, token=None)),
    ("GET", "/c/{slug}/v0.1/servers", Req(404, path={"slug": "no-such-catalog"}, token=None)),
    ("GET", "/c/{slug}/k/{secret}/v0.1/servers", Req(404, path={"secret": "mcpf_revoked"}, token=None)),
    ("POST", "/v0.1/x/io.mcpindex/feeds", Req(403, body={"catalog": "all", "name": "n"})),
    ("GET", "/v0.1/x/io.mcpindex/upstreams", Req(403, token="publisher")),
    ("POST", "/v0.1/x/io.mcpindex/upstreams", Req(409, body={"name": UPSTREAM, "base_url": "https://a.example"})),
    ("GET", "/v0.1/x/io.mcpindex/catalogs/{slug}", Req(400, path={"slug": "all"})),
    ("GET", "/v0.1/x/io.mcpindex/whoami", Req(401, token=None)),
    ("DELETE", "/v0.1/x/io.mcpindex/trust-roots/{slug}", Req(409)),
    ("POST", "/v0.1/x/io.mcpindex/principals", Req(422, body={"id": "x", "kind": "key", "nope": 1})),
    ("POST", "/v0.1/x/io.mcpindex/policies", Req(403, body={"id": "x"}, token="publisher")),
]


def _cases() -> list[tuple[str, str, str]]:
    return [(method, path, op["operationId"]) for method, path, op in document.operations()]


@pytest.fixture
def seeded(db: None, settings: Any, django_capture_on_commit_callbacks: Any) -> Seeded:
    for key, value in SERVER_SETTINGS.items():
        setattr(settings, key, value)
    with django_capture_on_commit_callbacks(execute=True):
        return seed()


def _tokens() -> dict[str | None, str | None]:
    publisher = issue_token(auth_method="test", subject="publisher",
                            permissions=[Permission(PUBLISH, "io.github.acme/*"),
                                         Permission(EDIT, "io.github.acme/*")]).registry_token
    return {"admin": admin_token(), "publisher": publisher, None: None}


def _send(client: Client, method: str, template: str, req: Req, seeded: Seeded) -> Any:
    values = {"serverName": SERVER, "version": "1.0.0", "name": UPSTREAM,
              "token_id": str(seeded.token_id), "feed_id": str(seeded.feed_id),
              "secret": seeded.feed_secret,
              "slug": path_slug(template), **req.path}
    url = _PARAM.sub(lambda m: quote(values[m.group(0)[1:-1]], safe=""), template)
    body = req.body
    if body == "new-key-principal":
        body = {"id": "bob", "kind": "key", "displayName": "Bob",
                "publicKey": dsse.public_key_pem(ed25519.Ed25519PrivateKey.generate())}
    if body == "envelope":
        body = {"kind": "dsse", "content": _envelope(ServerVersion.objects.get(name=SERVER,
                                                                              version="1.0.0"))}
    token = _tokens()[req.token]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str) else (json.dumps(body) if body is not None else None)
    kwargs: dict[str, Any] = {"headers": headers, "QUERY_STRING": "&".join(
        f"{k}={quote(v)}" for k, v in req.query.items())}
    if data is not None:
        kwargs.update(data=data, content_type="application/json")
    return getattr(client, method.lower())(url, **kwargs)


def _assert_matches(response: Any, method: str, template: str, expected: int) -> None:
    assert response.status_code == expected, (method, template, response.content[:500])
    found = problems(_doc(), method, template, response.status_code,
                     response.get("Content-Type", ""), response.content)
    assert not found, found


def test_every_operation_has_a_representative_request() -> None:
    sources = {op.get("x-same-as", op["operationId"]) for _, _, op in document.operations()}
    assert sources == set(REQUESTS)


@pytest.mark.parametrize(("method", "template", "op_id"), _cases(), ids=[c[2] for c in _cases()])
def test_a_representative_request_answers_as_documented(client: Client, seeded: Seeded, method: str,
                                                        template: str, op_id: str) -> None:
    op = _doc()["paths"][template][method.lower()]
    req = REQUESTS[op.get("x-same-as", op_id)]
    _assert_matches(_send(client, method, template, req, seeded), method, template, req.status)


@pytest.mark.parametrize(("method", "template", "req"), ERRORS,
                         ids=[f"{m} {t} {r.status}" for m, t, r in ERRORS])
def test_refusals_answer_as_documented(client: Client, seeded: Seeded, method: str, template: str,
                                       req: Req) -> None:
    response = _send(client, method, template, req, seeded)
    _assert_matches(response, method, template, req.status)
    assert response["Content-Type"] == "application/problem+json"
