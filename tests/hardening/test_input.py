"""mcp_index_common.input on its own: what the boundary accepts and refuses, and how fast."""

from __future__ import annotations

import json

import pytest

from curation.sync.screen import entry_problem
from mcp_index_common.input import (
    MAX_SAFE_INTEGER,
    InputRefused,
    MalformedJson,
    json_depth,
    parse_json,
    text_problem,
    url_text_problem,
    value_problem,
)


@pytest.mark.parametrize(("text", "depth"), [
    ("1", 0), ("[]", 1), ('{"a":[{"b":[]}]}', 4), ('["[[[[", "]"]', 1), (r'["\"[[["]', 1),
    ('{"a\\\\":"[["}', 1), ("[" * 70 + "]" * 70, 70),
])
def test_depth_is_measured_on_the_text_without_counting_strings(text, depth):
    assert json_depth(text) == depth


def test_parse_accepts_ordinary_json_unchanged():
    doc = {"name": "io.github.acme/db", "n": [1, -2, 2.5, MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER],
           "ok": True, "none": None, "text": "données ☃ \U0001f600 \t\n", "nested": [[[{}]]]}
    assert parse_json(json.dumps(doc).encode()) == doc
    assert parse_json(json.dumps(doc, ensure_ascii=False)) == doc


@pytest.mark.parametrize(("raw", "location", "words"), [
    ('{"a":"x\\u0000"}', "body.a", "NUL"),
    ('{"a":["ok","\\ud800"]}', "body.a[1]", "surrogate"),
    ('{"a":{"b\\udfff":1}}', "body.a", "key"),
    ('{"io.x/y":{"n":9007199254740992}}', 'body["io.x/y"].n', "number"),
    ('{"n":-9007199254740992}', "body.n", "number"),
    ('{"n":1e400}', "body.n", "number"),
    ('{"n":[NaN]}', "body.n[0]", "number"),
    ('{"n":-Infinity}', "body.n", "number"),
    ('{"n":' + "9" * 5000 + "}", "body.n", "number"),
    ("[" * 65 + "]" * 65, "body", "nested more than 64"),
])
def test_parse_refuses_with_the_location(raw, location, words):
    with pytest.raises(InputRefused) as caught:
        parse_json(raw)
    assert caught.value.location == location
    assert words in str(caught.value)
    assert not isinstance(caught.value, MalformedJson)


@pytest.mark.parametrize("raw", [b"{", b"\xff{}", b'{"a":1}x', b"\xed\xa0\x80"])
def test_malformed_input_is_its_own_refusal(raw):
    with pytest.raises(MalformedJson):
        parse_json(raw)


def test_the_first_problem_in_document_order_is_reported():
    problem = value_problem({"a": "ok", "b": ["x", "\x00"], "c": "\x00"})
    assert problem is not None and problem.location == "body.b[1]"


def test_value_checks_do_not_recurse():
    deep: list = []
    for _ in range(100_000):
        deep = [deep]
    problem = value_problem(deep, max_depth=64)
    assert problem is not None and "nested" in problem.reason


def test_text_and_url_problems():
    assert text_problem("plain ☃") is None
    assert "NUL" in (text_problem("a\x00") or "")
    assert "U+DC00" in (text_problem("a\udc00") or "")
    assert url_text_problem("a b/ü") is None
    assert "U+000A" in (url_text_problem("a\nb") or "")
    assert "U+007F" in (url_text_problem("\x7f") or "")


def test_a_megabyte_body_is_checked_and_a_deep_one_refused_before_decoding():
    # How fast is bench's business (no timed tests); this checks what is accepted and refused.
    doc = {"items": [{"name": f"item {i}", "value": i, "tags": ["a", "b", "ü"]} for i in range(12_000)]}
    raw = json.dumps(doc).encode()
    assert len(raw) > 700_000
    assert parse_json(raw) == doc
    with pytest.raises(InputRefused, match="nested"):
        parse_json(b"[" * 1_000_000)  # refused by depth, before any decoding


def test_the_mirror_screens_entries_with_the_same_boundary():
    """curation.sync.screen rejects an upstream entry for what a request body would be
    refused for, but keeps integers of any size (a mirror serves what its upstream holds)."""
    assert entry_problem({"server": {"name": "a\x00"}}) == (
        "entry.server.name contains a NUL character (U+0000)")
    deep: list = []
    for _ in range(40):
        deep = [deep]
    assert "nested more than 32" in (entry_problem({"d": deep}) or "")
    assert "finite" in (entry_problem({"n": float("nan")}) or "")
    assert entry_problem({"n": 2**70, "t": "données"}) is None
    long_key = "k\udc00" + "x" * 500
    problem = entry_problem({long_key: 1}) or ""
    assert "surrogate" in problem and len(problem) < 200


def test_the_integer_limit_is_the_caller_s():
    big = str(2**60).encode()
    with pytest.raises(InputRefused, match="outside"):
        parse_json(big)  # beyond ±(2**53 - 1) by default
    assert parse_json(big, max_int=2**63 - 1) == 2**60
    assert parse_json(b"[" + b"9" * 400 + b"]", max_int=None) == [int("9" * 400)]
    with pytest.raises(InputRefused, match="outside"):
        parse_json(str(2**63).encode(), max_int=2**63 - 1)
    with pytest.raises(InputRefused, match="outside"):
        parse_json(b"-" + b"9" * 5000)  # refused by its length, before int() reads it
