"""Hypothesis strategies for hostile input, and how to send it as a JSON body.

What a careless or malicious client sends: NUL and lone surrogates, control and bidi
characters, very long strings, integers past 2^53, numbers JSON cannot hold (`1e400`),
nesting thousands deep, invalid UTF-8. Values JSON cannot express (or that Python's
encoder refuses) are `Raw` text spliced into the body as it is sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st


@dataclass(frozen=True)
class Raw:
    """Body text sent as it is (it is not a JSON value Python can encode)."""

    text: bytes
    kind: str


NASTY = [
    "\x00", "a\x00b", "\ud800", "\udfff", "x\ud83dy", "\ud800\x00", "\u202e\u2066evil", "\ufeff",
    "\x1b[31m", "\r\nX-Injected: 1", "../../../../etc/passwd", "%00", "%ed%a0%80",
    "' OR 1=1 --", "<script>alert(1)</script>", "{{7*7}}", "e\u0301" * 50, "\U0010ffff",
    "", " ", "null", "*", "/", "a/b/c", "\\", "\t\n",
]
RAW_VALUES = [
    Raw(b"1e400", "a number JSON cannot hold"), Raw(b"-1e400", "a number JSON cannot hold"),
    Raw(b"NaN", "NaN"), Raw(b"Infinity", "Infinity"),
    Raw(b"[" * 10000 + b"]" * 10000, "10,000-deep nesting"),
    Raw(b'{"a":' * 5000 + b"1" + b"}" * 5000, "5,000-deep nesting"),
    Raw(b'"\xff\xfe"', "invalid UTF-8"), Raw(b'"\xed\xa0\x80"', "a UTF-8-encoded surrogate"),
    Raw(b'"\\ud800"', "an escaped lone surrogate"), Raw(b'"\\u0000"', "an escaped NUL"),
]
NUMBERS = [2**53 + 1, -(2**63) - 1, 2**64, 10**400, 1e308, -0.0, 5e-324, True, False, None, 0, -1]


def hostile_strings() -> st.SearchStrategy[str]:
    nasty = st.sampled_from(NASTY)
    return st.one_of(
        nasty,
        st.builds(lambda a, n, b: a + n + b, st.text(max_size=12), nasty, st.text(max_size=12)),
        st.text(alphabet=st.characters(categories=("Cs", "Cc", "Cf", "Co")), min_size=1,
                max_size=40),
        st.sampled_from([201, 256, 501, 2001, 5001, 70_000, 300_000]).map(lambda n: "x" * n),
    )


def hostile_values() -> st.SearchStrategy[Any]:
    """One hostile value: a string, a number, a raw token, a deep or a huge structure."""
    strings = hostile_strings()
    return st.one_of(
        strings, strings, strings,
        st.sampled_from(NUMBERS),
        st.sampled_from(RAW_VALUES),
        st.integers(min_value=50, max_value=400).map(lambda d: _nested(d)),
        st.sampled_from([20_000, 100_000]).map(lambda n: ["a.b/*"] * n),
        st.dictionaries(strings, strings, max_size=3),
        st.lists(strings, max_size=3),
    )


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


def encode(value: Any) -> bytes:
    """JSON bytes, with every Raw spliced in where it stands."""
    raws: list[Raw] = []

    def mark(obj: Any) -> Any:
        if isinstance(obj, Raw):
            raws.append(obj)
            return f"\x00raw{len(raws) - 1}\x00"
        if isinstance(obj, dict):
            return {mark(k) if isinstance(k, Raw) else k: mark(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [mark(v) for v in obj]
        return obj

    text = json.dumps(mark(value)).encode()
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\x00raw{i}\x00").encode(), raw.text)
    return text


def describe(value: Any) -> str:
    if isinstance(value, Raw):
        return value.kind
    text = repr(value)
    return text if len(text) < 120 else f"{text[:100]}… ({len(text)} characters)"
