"""The screen's quick pass never accepts an entry the boundary's full walk refuses."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.sync import screen
from curation.sync.screen import MAX_DEPTH, entry_problem, placeholder, plainly_acceptable
from mcp_index_common import input as boundary
from tests.fuzz.hostile import hostile_strings

DEMO = Path(__file__).resolve().parents[2] / "registry" / "fixtures" / "demo-servers.json"


def walk_problem(entry: Any) -> str | None:
    """What entry_problem answered before the quick pass: the full walk alone."""
    problem = boundary.value_problem(entry, max_depth=MAX_DEPTH, max_int=None, location="entry")
    return str(problem) if problem is not None else None


def _nest(value: Any, depth: int, dicts: bool) -> Any:
    for level in range(depth):
        value = {f"k{level}": value} if dicts and level % 2 else [value]
    return value


# Strings that look like what the quick pass reads in the encoder's text: escapes of NUL,
# quotes, backslashes, brackets that are no nesting at all.
LOOKALIKES = ["\\u0000", "\\", '"', '\\"', "[" * 40, "]" * 40, "{[" * 20, '"}]' * 10, "\\\\u0000"]
benign_text = st.one_of(
    st.sampled_from(LOOKALIKES), st.text(alphabet="[]{}\"\\u0x", max_size=20),
    st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
            max_size=20),
)
benign = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2**53 + 1, -(2**63) - 1, 10**400]), benign_text, benign_text,
)
hostile = st.one_of(
    hostile_strings(),  # NUL, lone surrogates, controls, strings up to 300,000 characters
    st.sampled_from([math.nan, math.inf, -math.inf]),
    st.sampled_from([4299, 4300, 5000]).map(lambda digits: -(10**digits)),  # past int's str()
)
# Mostly benign leaves, so that one hostile leaf is often an entry's only problem.
leaves = st.one_of(benign, benign, benign, benign, hostile)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(benign_text, benign_text, hostile_strings()),
                                            inner, max_size=4)),
    max_leaves=12,
)
entries = st.one_of(
    trees, trees,
    st.builds(_nest, trees, st.integers(min_value=MAX_DEPTH - 4, max_value=MAX_DEPTH + 3),
              st.booleans()),
    st.builds(lambda server, meta: {"server": server, "_meta": meta},
              st.dictionaries(st.text(max_size=12), trees, max_size=5),
              st.dictionaries(st.text(max_size=12), trees, max_size=2)),
)


@pytest.mark.slow
def test_quick_pass_accepts_only_what_the_walk_accepts() -> None:
    seen: Counter[str] = Counter()

    @settings(max_examples=2000, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(entries)
    def check(entry: Any) -> None:
        refused = walk_problem(entry)
        quick = plainly_acceptable(entry)
        if quick:
            assert refused is None, f"quick pass accepted what the walk refuses: {refused}"
        assert entry_problem(entry) == refused  # same answers, same words as before
        seen["accepted quickly" if quick else "refused" if refused else "deferred, accepted"] += 1

    check()
    # A guard on the strategy: all three happen often (a test that cannot fail is a defect).
    assert min(seen.values()) > 50 and len(seen) == 3, seen


@pytest.mark.parametrize("entry", [
    {"a": "\x00"}, {"\x00": 1}, {"a": ["b", {"c": "x\x00y"}]},
    {"a": "\ud800"}, {"\udfff": 1}, ["x\ud83dy"],
    {"f": math.nan}, {"f": math.inf}, [-math.inf],
    _nest("x", MAX_DEPTH + 1, False), _nest("x", MAX_DEPTH + 1, True), _nest([], MAX_DEPTH, False),
    _nest({}, MAX_DEPTH, True),
])
def test_each_refusal_is_left_to_the_walk(entry: Any) -> None:
    assert not plainly_acceptable(entry)
    assert walk_problem(entry) is not None
    assert entry_problem(entry) == walk_problem(entry)


@pytest.mark.parametrize("entry", [
    {"a": "\\u0000"},                       # a backslash and "u0000": deferred, accepted
    {"n": 10**5000},                         # more digits than int prints: deferred, accepted
    {"k": {1, 2}},                           # no JSON form: deferred (the walk passes it)
])
def test_lookalikes_are_deferred_and_accepted(entry: Any) -> None:
    assert not plainly_acceptable(entry)
    assert walk_problem(entry) is None and entry_problem(entry) is None


@pytest.mark.parametrize("entry", [
    _nest("x", MAX_DEPTH, False), _nest("x", MAX_DEPTH, True), _nest([], MAX_DEPTH - 1, False),
    {"s": "[" * 500 + "{" * 500}, {"[[[[": ["]]]]" * 100]}, {"n": 10**400, "m": -(2**63)},
    {"s": "\U0001f600 é \u2028 \\ \""}, [], {}, "x", None,
])
def test_plain_entries_pass_quickly(entry: Any) -> None:
    assert plainly_acceptable(entry)
    assert walk_problem(entry) is None and entry_problem(entry) is None


def test_depth_limit_is_the_walks_exactly() -> None:
    """Nested MAX_DEPTH containers pass; one more is refused, the quick pass agreeing."""
    for dicts in (False, True):
        for depth in range(MAX_DEPTH - 2, MAX_DEPTH + 3):
            entry = _nest("x", depth, dicts)
            assert plainly_acceptable(entry) == (depth <= MAX_DEPTH) == (walk_problem(entry) is None)


def test_real_entries_take_the_quick_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    entries_ = json.loads(DEMO.read_text(encoding="utf-8"))
    monkeypatch.setattr(screen.boundary, "value_problem", None)  # never reached
    assert all(entry_problem(entry) is None for entry in entries_)


def test_a_placeholder_is_still_refused() -> None:
    entry = placeholder("nested more than 64 deep")
    assert entry_problem(entry) == "entry is nested more than 64 deep"
