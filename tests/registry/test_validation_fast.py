"""The compiled validator that answers "valid?" first never passes what jsonschema refuses."""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import jsonschema_rs
import pytest

from mcp_index_common.validation import schema, validate_manifest

FIXTURES = Path(__file__).resolve().parents[2] / "registry" / "fixtures"
CODE_POINTS = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]


def _python_errors(document: dict) -> list[str]:
    label = schema.schema_label(document["$schema"])
    assert label is not None
    return [e.message for e in schema._validator(label).iter_errors(document)]


@pytest.mark.parametrize("pattern", sorted({p for doc in schema._schemas().values()
                                            for p in re.findall(r'"pattern": "((?:[^"\\]|\\.)*)"',
                                                                json.dumps(doc))}))
def test_every_schema_pattern_is_no_wider_than_pythons(pattern: str) -> None:
    """Each pattern, narrowed for ECMA, admits no single character (in any of its classes'
    places) that Python's reading refuses: checked on every code point."""
    python_pattern = json.loads(f'"{pattern}"')
    narrowed = schema._stricter_pattern(python_pattern)
    fast = jsonschema_rs.Draft7Validator({"type": "string", "pattern": narrowed})
    slow = re.compile(python_pattern)
    for piece in (r"\d", r"[^\s]"):
        if piece not in python_pattern:
            continue
        probe_fast = jsonschema_rs.Draft7Validator(
            {"type": "string", "pattern": "^" + schema._stricter_pattern(piece) + "$"})
        probe_slow = re.compile("^" + piece + "$")
        wider = [hex(ord(c)) for c in CODE_POINTS
                 if probe_fast.is_valid(c) and not probe_slow.search(c)]
        assert wider == [], (piece, wider[:20])
    # and the whole pattern, on strings built around every character
    for c in [*CODE_POINTS[::97], "\x1c", "\x1f", "\x85", "\u0660", "\ufeff", "\u3000"]:
        for text in (f"https://a{c}b", f"1{c}x2", f"{c}", f"a{c}/b", "0" * 63 + c):
            if fast.is_valid(text):
                assert slow.search(text), (pattern, text)


def test_unvetted_classes_get_no_fast_validator() -> None:
    for pattern in (r"^\w+$", r"^[\d.]+$", r"^\S+$", r"^[a[^\s]]$"):
        with pytest.raises(schema._NoFastSchema):
            schema._stricter_pattern(pattern)
    for node in ({"oneOf": [{"type": "string"}]}, {"not": {"pattern": "^a$"}},
                 {"format": "email"}, {"patternProperties": {"^a": {}}}):
        with pytest.raises(schema._NoFastSchema):
            schema._stricter_schema(node)
    # a property called "format" or "not" is a name, not a keyword
    assert schema._stricter_schema({"properties": {"format": {"type": "string"},
                                                   "not": {"type": "string"}}})


def test_every_embedded_schema_has_a_fast_validator() -> None:
    assert all(schema._fast_validator(label) is not None for label in schema._schemas())


def _documents() -> list[dict]:
    found = []
    for path in sorted(FIXTURES.rglob("*.json")):
        try:
            value = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError):
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            doc = item.get("server", item) if isinstance(item, dict) else None
            if isinstance(doc, dict) and isinstance(doc.get("$schema"), str) \
                    and schema.schema_label(doc["$schema"]):
                found.append(doc)
    return found


def _mutations(document: dict) -> list[dict]:
    """Near misses of a valid document: each breaks one pattern, format or type."""
    out = []
    for key, value in (("name", "bad name"), ("name", "a/b\x1c"), ("version", 7),
                       ("websiteUrl", "not a uri"), ("websiteUrl", "https://a\x85b"),
                       ("repository", {"url": "x", "source": 3}), ("remotes", [{"type": "sse"}]),
                       ("icons", [{"src": "https://a/\x1fb", "sizes": ["4\u06604"]}])):
        changed = copy.deepcopy(document)
        changed[key] = value
        out.append(changed)
    return out


def test_fast_and_slow_agree_on_fixtures_and_their_near_misses() -> None:
    documents = _documents()
    assert documents
    checked = 0
    for document in documents:
        for candidate in [document, *_mutations(document)]:
            label = schema.schema_label(candidate["$schema"])
            assert label is not None
            if schema._surely_valid(label, candidate):
                assert _python_errors(candidate) == [], candidate.get("name")
            checked += 1
    assert checked > 50


def test_issues_are_jsonschemas_own() -> None:
    """A document the fast validator refuses gets jsonschema's messages, as before."""
    document = {"$schema": schema.CURRENT_SCHEMA_URL, "name": "bad name", "version": "1.0.0",
                "description": "x"}
    issues = validate_manifest(document, semantic=False).issues
    label = schema.schema_label(document["$schema"])
    assert label is not None and not schema._surely_valid(label, document)
    messages = [i.message for i in issues if i.reference.startswith("#/")]
    assert messages == _python_errors(document)
