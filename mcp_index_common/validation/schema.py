"""The embedded server.json JSON Schemas and validation against the one `$schema` names."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema_rs
from jsonschema import Draft7Validator

from mcp_index_common.validation.formats import format_checker, is_uri
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


# The compiled (Rust) validator answers "valid?" about 50 times faster than jsonschema, whose
# errors (messages, paths, references) are what we store and show; so jsonschema still speaks
# for every document the fast one does not pass. It must never pass a document jsonschema
# refuses: its regex classes are ECMA's, so each is replaced by one that admits no more than
# Python's does (tests/registry/test_validation_fast.py checks every code point), and a schema
# where being stricter could pass more (`not`, `oneOf`) or a class not listed gets no fast one.
_NARROWER = {"\\d": "[0-9]", "[^\\s]": "[^\\s\\x1c-\\x1f\\x85]"}
# Python's \d is any Unicode digit (ECMA's is ASCII, and [0-9] says so); Python's \s also
# holds U+001C-U+001F and U+0085, so "not a space" must exclude them too.
_ESCAPE = re.compile(r"\[\^\\s\]|\\.|\[|\]")


class _NoFastSchema(Exception):
    """The schema has something the fast validator could be more lenient on."""


def _stricter_pattern(pattern: str) -> str:
    """`pattern` with each class Python and ECMA read differently narrowed to Python's."""
    out, depth, kept = [], 0, 0
    for found in _ESCAPE.finditer(pattern):
        token = found.group()
        if token in ("[", "]"):
            depth += 1 if token == "[" else -1
        elif token in _NARROWER and depth == 0:
            out += [pattern[kept:found.start()], _NARROWER[token]]
            kept = found.end()
        elif token in _NARROWER or token[1].isalnum():  # \w, \b, \S, a class in a class: unvetted
            raise _NoFastSchema(pattern)
    return "".join(out) + pattern[kept:]


_LITERAL = frozenset({"enum", "const", "default", "examples", "example", "required", "type",
                      "description", "title", "$id", "$schema", "$comment", "$ref"})
_SCHEMA_MAPS = frozenset({"properties", "definitions"})
# Where the two validators agree by construction: a format we check ourselves (is_uri), and
# keywords that do not invert what they hold (`not` does, `oneOf` may; patternProperties'
# keys are regexes).
_REFUSED = frozenset({"oneOf", "patternProperties", "dependencies", "if", "then", "else"})


def _stricter_schema(node: Any, negated: bool = False) -> Any:
    """A copy of a schema on which the fast validator can only be stricter than jsonschema."""
    if isinstance(node, list):
        return [_stricter_schema(item, negated) for item in node]
    if not isinstance(node, dict):
        return node
    copied: dict[str, Any] = {}
    for key, value in node.items():
        if key in _REFUSED or (negated and key in ("pattern", "format")) or \
                (key == "format" and value != "uri"):
            raise _NoFastSchema(key)
        if key in _LITERAL:
            copied[key] = value
        elif key == "pattern" and isinstance(value, str):
            copied[key] = _stricter_pattern(value)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            copied[key] = {name: _stricter_schema(sub, negated) for name, sub in value.items()}
        else:
            copied[key] = _stricter_schema(value, negated or key == "not")
    return copied


@lru_cache(maxsize=16)
def _fast_validator(label: str) -> jsonschema_rs.Validator | None:
    try:
        schema = _stricter_schema(_schemas()[label])
    except _NoFastSchema:
        return None
    return jsonschema_rs.Draft7Validator(schema, formats={"uri": is_uri}, validate_formats=True)


def _surely_valid(label: str, document: dict[str, Any]) -> bool:
    """True when the fast validator passes the document (jsonschema would find no error)."""
    fast = _fast_validator(label)
    if fast is None:
        return False
    try:
        return fast.is_valid(document)
    except Exception:  # e.g. a lone surrogate it cannot take: jsonschema decides
        return False


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
    errors = [] if _surely_valid(label, document) else _validator(label).iter_errors(document)
    for error in sorted(errors, key=lambda e: list(e.path)):
        reference = "#/" + "/".join(str(p) for p in error.schema_path)
        issues.append(
            Issue(SCHEMA, path_of(list(error.absolute_path)), error.message, ERROR, reference)
        )
    return issues
