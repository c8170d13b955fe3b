"""The embedded server.json JSON Schemas and validation against the one `$schema` names."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator

from mcp_index_common.validation.formats import format_checker
from mcp_index_common.validation.result import ERROR, SCHEMA, SEMANTIC, WARNING, Issue, path_of

CURRENT_SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"
_VERSION_IN_URL = re.compile(r"/schemas/([A-Za-z0-9_~.-]+)/server\.schema\.json")


@lru_cache(maxsize=1)
def _schemas() -> dict[str, dict[str, Any]]:
    """Schema documents keyed by version label (`2025-12-11`, …, `draft`)."""
    found = {}
    for entry in resources.files("mcp_index_common.validation.schemas").iterdir():
        if entry.name.endswith(".json"):
            found[entry.name[: -len(".json")]] = json.loads(entry.read_text(encoding="utf-8"))
    return found


def _url_for(label: str, doc: dict[str, Any]) -> str:
    return str(doc.get("$id", label))


SUPPORTED_SCHEMAS: tuple[str, ...] = tuple(
    sorted(_url_for(label, doc) for label, doc in _schemas().items())
)


def schema_label(schema_url: str) -> str | None:
    """The embedded schema a `$schema` URL names, or None when we don't have it."""
    if not isinstance(schema_url, str) or not schema_url:
        return None
    base = schema_url.split("#", 1)[0]
    for label, doc in _schemas().items():
        if doc.get("$id") == base:
            return label
    match = _VERSION_IN_URL.search(base)
    if match and match.group(1) in _schemas():
        return match.group(1)
    return None


@lru_cache(maxsize=16)
def _validator(label: str) -> Draft7Validator:
    return Draft7Validator(_schemas()[label], format_checker=format_checker())


def check_schema(document: dict[str, Any]) -> list[Issue]:
    """Issues from `$schema` resolution and JSON Schema validation of `document`."""
    schema_url = document.get("$schema")
    supported = ", ".join(SUPPORTED_SCHEMAS)
    if not schema_url:
        return [
            Issue(SEMANTIC, "$schema", f"$schema field is required; supported: {supported}",
                  ERROR, "schema-field-required")
        ]
    label = schema_label(schema_url)
    if label is None:
        return [
            Issue(SCHEMA, "$schema",
                  f"unknown schema {schema_url!r}; supported: {supported}",
                  ERROR, "schema-version-not-available")
        ]
    issues: list[Issue] = []
    if schema_url.split("#", 1)[0] != CURRENT_SCHEMA_URL:
        issues.append(
            Issue(SEMANTIC, "$schema",
                  f"schema version {label} is not the current version "
                  f"({CURRENT_SCHEMA_URL}); consider updating",
                  WARNING, "schema-version-deprecated")
        )
    for error in sorted(_validator(label).iter_errors(document), key=lambda e: list(e.path)):
        reference = "#/" + "/".join(str(p) for p in error.schema_path)
        issues.append(
            Issue(SCHEMA, path_of(list(error.absolute_path)), error.message, ERROR, reference)
        )
    return issues
