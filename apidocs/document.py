"""The served OpenAPI document, built from the YAML source in apidocs/openapi/.

The source writes each standard operation once, under /v0.1, with `x-also-at` naming the
other bases the same handler answers at (/v0, /c/{slug}/v0.1, /c/{slug}/v0). Building the
document merges the parts, takes the official registry schemas from the spec the repo
carries (registry/spec/openapi.yaml: the standard bodies cannot drift from it), copies
those operations to their other bases (each copy with its own operationId, the catalog
slug parameter and the catalog's 404) and writes our extensions under the configured
MCP_INDEX_NAMESPACE. The result is built once per namespace and process.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings

SOURCE = Path(__file__).resolve().parent / "openapi"
OFFICIAL_SPEC = Path(__file__).resolve().parent.parent / "registry" / "spec" / "openapi.yaml"
SOURCE_NAMESPACE = "io.mcpindex"  # what the source writes in extension paths
STANDARD_BASE = "/v0.1"
CATALOG_BASE = "/c/{slug}"
FEED_BASE = "/c/{slug}/k/{secret}"  # a feed URL: a catalog's reads, the secret in the path
BASES = ("/v0", f"{CATALOG_BASE}/v0.1", f"{CATALOG_BASE}/v0", f"{FEED_BASE}/v0.1", f"{FEED_BASE}/v0")
# libyaml when the wheel has it: the pure-Python parser takes seconds over the whole source.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BaseDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class DocumentError(ValueError):
    """The source is inconsistent (a path or component defined twice, an unknown base)."""


def _load(name: str, namespace: str) -> dict[str, Any]:
    text = (SOURCE / name).read_text(encoding="utf-8")
    if namespace != SOURCE_NAMESPACE:
        text = text.replace(f"/x/{SOURCE_NAMESPACE}/", f"/x/{namespace}/")
    data = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
    if not isinstance(data, dict):
        raise DocumentError(f"{name} is not a mapping")
    return data


def _merge(target: dict[str, Any], extra: dict[str, Any], where: str) -> None:
    for key, value in extra.items():
        if key in target:
            raise DocumentError(f"{where}: {key} is defined twice")
        target[key] = value


def _copy_id(operation_id: str, base: str) -> str:
    name = operation_id
    if base.startswith(FEED_BASE):
        name = "feed" + name[0].upper() + name[1:]
    elif base.startswith(CATALOG_BASE):
        name = "catalog" + name[0].upper() + name[1:]
    if base.endswith("/v0"):
        name += "V0"
    return name


def _mounted(operation: dict[str, Any], base: str, source_id: str) -> dict[str, Any]:
    op = copy.deepcopy(operation)
    op["operationId"] = _copy_id(source_id, base)
    op["x-same-as"] = source_id
    if base.startswith(CATALOG_BASE):
        feed = [{"$ref": "#/components/parameters/FeedSecret"}] if base.startswith(FEED_BASE) else []
        op["parameters"] = [{"$ref": "#/components/parameters/CatalogSlug"}, *feed,
                            *op.get("parameters", [])]
        if feed:  # the secret is the credential: no header, and no shared caching
            op["security"] = [{}]
        responses = op["responses"]
        responses.setdefault("404", {"$ref": "#/components/responses/NotFound"})
        op["responses"] = dict(sorted(responses.items()))
    return op


def _expand(paths: dict[str, Any]) -> dict[str, Any]:
    """The source paths followed by every `x-also-at` copy, grouped by base."""
    copies: dict[str, dict[str, dict[str, Any]]] = {}
    for path, item in paths.items():
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            operation["responses"] = dict(sorted(operation["responses"].items()))
            for base in operation.pop("x-also-at", []):
                if not path.startswith(STANDARD_BASE + "/"):
                    raise DocumentError(f"{method} {path}: x-also-at needs a {STANDARD_BASE} path")
                if base not in BASES:
                    raise DocumentError(f"{method} {path}: unknown base {base}")
                target = base + path[len(STANDARD_BASE):]
                mounted = _mounted(operation, base, operation["operationId"])
                copies.setdefault(base, {}).setdefault(target, {})[method] = mounted
    out = dict(paths)
    for group in copies.values():
        for target, item in group.items():
            _merge(out, {target: item}, "paths")
    return out


@lru_cache(maxsize=4)
def _build(namespace: str) -> dict[str, Any]:
    root = _load("openapi.yaml", namespace)
    parts = root.pop("x-parts", [])
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {k: dict(v) for k, v in
                                             root.get("components", {}).items()}
    for name in parts:
        part = _load(name, namespace)
        _merge(paths, part.get("paths", {}), name)
        for section, entries in part.get("components", {}).items():
            _merge(components.setdefault(section, {}), entries, f"{name} components.{section}")
    _merge(paths, root.get("paths", {}), "openapi.yaml")  # the site's own paths come last
    official = yaml.load(OFFICIAL_SPEC.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506
    _merge(components.setdefault("schemas", {}), official["components"]["schemas"],
           "registry/spec/openapi.yaml components.schemas")
    root["paths"] = _expand(paths)
    root["components"] = components
    return root


def document() -> dict[str, Any]:
    """The whole document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_build(settings.MCP_INDEX_NAMESPACE))


@lru_cache(maxsize=4)
def _json(namespace: str) -> bytes:
    return json.dumps(_build(namespace), ensure_ascii=False, indent=1).encode()


class _PlainDumper(_BaseDumper):  # type: ignore[misc,valid-type]
    """No `&id001` anchors for objects the source shares (YAML aliases, deep copies)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


@lru_cache(maxsize=4)
def _yaml(namespace: str) -> bytes:
    return yaml.dump(_build(namespace), Dumper=_PlainDumper, sort_keys=False,
                     allow_unicode=True, width=100).encode()


def as_json() -> bytes:
    return _json(settings.MCP_INDEX_NAMESPACE)


def as_yaml() -> bytes:
    return _yaml(settings.MCP_INDEX_NAMESPACE)


def operations(doc: dict[str, Any] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """`(METHOD, path, operation)` for every operation, in document order."""
    doc = doc or _build(settings.MCP_INDEX_NAMESPACE)
    return [(method.upper(), path, item[method]) for path, item in doc["paths"].items()
            for method in METHODS if method in item]
