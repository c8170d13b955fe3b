"""The fast canonical form is byte for byte rfc8785's, or rfc8785's own error."""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_index_common import canonical
from mcp_index_common.canonical import canonical_json
from registry.manifest import canonical_digest

DEMO = Path(__file__).resolve().parents[2] / "registry" / "fixtures" / "demo-servers.json"
SAFE = 2**53 - 1

# Characters where the two encoders could part: escapes, C0/C1 controls, DEL, the line and
# paragraph separators (JSON.stringify keeps them), the last BMP characters (which sort after
# astral ones in UTF-16), astral ones, lone surrogates, a BOM.
EDGE_CHARS = ['"', "\\", "/", "\b", "\f", "\n", "\r", "\t", "\x00", "\x01", "\x1f", "\x7f",
              "\x80", "\x9f", "\u2028", "\u2029", "\ud7ff", "\ud800", "\udbff", "\udc00",
              "\udfff", "\ue000", "\uff61", "\ufeff", "\uffff", "\U00010000", "\U0001f600",
              "\U0010ffff", "\u00e9", "\u0301", "\u00df", "\u0130"]
characters = st.one_of(st.characters(codec=None, categories=None), st.sampled_from(EDGE_CHARS))
texts = st.text(alphabet=characters, max_size=12)
# Keys from few characters, so one object often holds both astral and late-BMP keys.
keys = st.one_of(texts, st.text(alphabet=st.sampled_from(
    ["a", "\ue000", "\uffff", "\U00010000", "\U0001f600", "\U0010ffff"]), max_size=3))
integers = st.one_of(
    st.integers(min_value=-1000, max_value=1000),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.sampled_from([SAFE, -SAFE, SAFE + 1, -SAFE - 1, 10**15 - 1, 10**15, -(10**15), 10**16,
                     2**63, 0, -0]),
)
floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from([0.0, -0.0, 1.0, 1e21, 1e20, 1e-7, 1e-6, 5e-324, 0.1, 2.5e-5,
                                    1.7976931348623157e308, float(SAFE), 123456789012345680.0]))
scalars = st.one_of(st.none(), st.booleans(), integers, integers, texts, texts, floats)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)


def _outcome(encode: Any, value: Any) -> bytes | type[BaseException]:
    try:
        return encode(value)
    except (rfc8785.CanonicalizationError, RecursionError, ValueError) as exc:
        return type(exc)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(json_values)
def test_equals_rfc8785_on_generated_values(value: Any) -> None:
    assert _outcome(canonical_json, value) == _outcome(rfc8785.dumps, value)


def _plain_document() -> dict[str, Any]:
    return {"name": "io.github.acme/db", "version": "1.0.0", "n": 3, "ok": True, "x": None,
            "packages": [{"registryType": "npm", "identifier": "@acme/db", "env": []}]}


@pytest.mark.parametrize("value", [
    {"b": 1, "a": 2, "": 3, "aa": 4, "A": 5},                       # key order
    {"\uffff": 1, "\U0001f600": 2, "\ue000": 3, "z": 4},            # UTF-16 order != code points
    {"k": "\U0001f600 in a value"},
    {"k": "\x00\x01\x1f\x7f\u2028\"\\/"},
    {"n": SAFE, "m": -SAFE}, {"n": SAFE + 1}, {"n": -SAFE - 1}, {"n": 10**15}, {"n": 10**400},
    {"f": 1.0}, {"f": -0.0}, {"f": 1e21}, {"f": 1e-7}, {"f": 0.1}, {"f": 5e-324},
    {"f": math.inf}, {"f": math.nan},
    {"s": "\ud800"}, {"\udfff": 1}, ["a\ud83d"],
    {1: "int key"}, {None: 1}, {("a",): 1},
    ("a", "tuple"), {"t": (1, 2)}, OrderedDict(b=1, a=2), {"e": IntEnum("E", "A B").B},
    {"b": b"bytes"}, {"set": {1}},
    [], {}, [[]], "", 0, True, None, "x",
    _plain_document(),
])
def test_edge_cases_equal_rfc8785(value: Any) -> None:
    assert _outcome(canonical_json, value) == _outcome(rfc8785.dumps, value)


def test_cycles_and_deep_nesting_fail_as_rfc8785_does() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    for value in (cycle, deep):
        assert _outcome(canonical_json, value) is _outcome(rfc8785.dumps, value) is RecursionError


def test_plain_documents_take_the_fast_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """A guard on the test above: ordinary documents never reach rfc8785 at all."""
    def refuse(value: Any) -> bytes:
        raise AssertionError("rfc8785 called")

    monkeypatch.setattr(canonical.rfc8785, "dumps", refuse)
    document = _plain_document()
    assert canonical_json(document) == json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert canonical_json({"k": "ünïcødé \u2028 \uffff"}).decode() == '{"k":"ünïcødé \u2028 \uffff"}'


def test_demo_snapshot_digests_are_unchanged() -> None:
    """Every stored digest of the demo data (real registry entries) stays what it was."""
    entries = json.loads(DEMO.read_text(encoding="utf-8"))
    assert len(entries) > 500
    for entry in entries:
        for value in (entry["server"], entry):
            expected = hashlib.sha256(rfc8785.dumps(value)).hexdigest()
            assert canonical_digest(value) == expected
