"""The one input boundary: which JSON texts and strings are acceptable at all.

PostgreSQL refuses NUL in text and jsonb and cannot encode a lone surrogate; RFC 8785
canonical JSON (what our digests and signatures are made over) and I-JSON (RFC 7493) allow
only integers within ±(2^53-1) and finite numbers; Python's JSON decoder recurses, and so
does everything that walks a document afterwards (schema validation, canonicalisation).
So every request body, query string and upstream entry passes these checks before anything
else reads it. Django-free: the API's parser, the ops middleware, the mirror's ingest and the
CLI share it.
"""

from __future__ import annotations

import json
import math
import re
from itertools import accumulate
from typing import Any

MAX_DEPTH = 64  # real manifests nest 8 deep, sigstore bundles about 7
MAX_SAFE_INTEGER = 2**53 - 1  # RFC 7493 §2.2 / RFC 8785 §3.2.2.3

_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f]")
# A JSON string literal (unrolled loop: linear, no backtracking), then anything that is not
# a bracket: what remains of a JSON text after both are removed is its bracket structure.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}
_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_KEY_SHOWN = 60  # characters of a key quoted in a location


class InputRefused(ValueError):
    """Unacceptable input: `reason` says why, `location` where (`body.packages[0].url`)."""

    def __init__(self, reason: str, location: str = "body") -> None:
        super().__init__(f"{location} {reason}")
        self.reason = reason
        self.location = location


class MalformedJson(InputRefused):
    """The text is not JSON at all (or not UTF-8); `reason` is the decoder's message."""

    def __init__(self, reason: str, location: str = "body") -> None:
        super().__init__(reason, location)
        self.args = (f"{location} is not valid JSON: {reason}",)


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored or encoded (NUL, lone surrogate), or None."""
    if "\x00" in text:
        return "contains a NUL character (U+0000)"
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found:
            return f"contains a lone surrogate (U+{ord(found.group()):04X})"
    return None


def check_text(text: str, location: str = "text") -> str:
    """`text` itself, or InputRefused when it holds NUL or a lone surrogate."""
    problem = text_problem(text)
    if problem:
        raise InputRefused(problem, location)
    return text


def url_text_problem(text: str) -> str | None:
    """Why a decoded URL path or query cannot be accepted (any control character too)."""
    problem = text_problem(text)
    if problem:
        return problem
    found = _CONTROL.search(text)
    if found:
        return f"contains a control character (U+{ord(found.group()):04X})"
    return None


def json_depth(text: str) -> int:
    """How deeply arrays and objects nest in a JSON text, found without parsing it."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    return max(0, max(accumulate(map(_DELTA.__getitem__, brackets))))


class _Refused(str):
    """A number the decoder must not turn into a value; reported with its location."""


def _int_parser(max_int: int | None) -> Any:
    """The decoder's integer hook for a limit (None: any size int() accepts)."""
    digits = len(str(max_int)) if max_int is not None else None

    def parse(literal: str) -> Any:
        if digits is not None and len(literal.lstrip("-")) > digits:
            return _Refused(literal)  # out of range, and int() on a long literal is slow
        value = int(literal)
        return value if max_int is None or abs(value) <= max_int else _Refused(literal)

    return parse


def _parse_float(literal: str) -> Any:
    value = float(literal)
    return value if math.isfinite(value) else _Refused(literal)


def _child(location: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{location}[{key}]"
    if len(key) <= _KEY_SHOWN and _KEY.match(key):
        return f"{location}.{key}" if location else key
    shown = json.dumps(key[:_KEY_SHOWN]) + ("…" if len(key) > _KEY_SHOWN else "")
    return f"{location}[{shown}]"  # escaped (NUL, surrogates, quotes) and cut: a key may hold anything


def value_problem(value: Any, *, max_depth: int = MAX_DEPTH,
                  max_int: int | None = MAX_SAFE_INTEGER, location: str = "body"
                  ) -> InputRefused | None:
    """The first unacceptable thing in a decoded JSON value, or None.

    Walks without recursion, so a value nested arbitrarily deep is reported, not a crash.
    `max_int=None` accepts integers of any size (a mirror keeps what its upstream serves).
    """
    stack: list[tuple[Any, str, int]] = [(value, location, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, _Refused):
            return InputRefused(f"is a number outside what JSON can carry exactly: {item[:40]} "
                                f"(integers within ±{max_int}, finite numbers only)", where)
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return InputRefused(problem, where)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if max_int is not None and abs(item) > max_int:
                return InputRefused(f"is an integer outside ±{max_int}", where)
        elif isinstance(item, float):
            if not math.isfinite(item):
                return InputRefused("is not a finite number", where)
        elif isinstance(item, dict | list):
            if depth >= max_depth:
                return InputRefused(f"is nested more than {max_depth} deep", where)
            pairs = item.items() if isinstance(item, dict) else enumerate(item)
            children = []
            for key, child in pairs:
                if isinstance(key, str):
                    problem = text_problem(key)
                    if problem:
                        return InputRefused(f"has a key that {problem}", where)
                children.append((child, _child(where, key), depth + 1))
            stack.extend(reversed(children))  # report the first problem in document order
    return None


def check_value(value: Any, *, max_depth: int = MAX_DEPTH, max_int: int | None = MAX_SAFE_INTEGER,
                location: str = "body") -> Any:
    """`value` itself, or InputRefused naming the first unacceptable part of it."""
    problem = value_problem(value, max_depth=max_depth, max_int=max_int, location=location)
    if problem is not None:
        raise problem
    return value


def parse_json(raw: bytes | str, *, max_depth: int = MAX_DEPTH,
               max_int: int | None = MAX_SAFE_INTEGER, location: str = "body") -> Any:
    """Decode a JSON text through the boundary: MalformedJson or InputRefused, or the value.

    Depth is measured on the text first, so the recursive decoder never sees a document
    deeper than `max_depth`; numbers outside the exact range are kept as markers by the
    decoder and reported with their location.
    """
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedJson(f"not UTF-8 (invalid byte at offset {exc.start})",
                                location) from None
    else:
        text = raw
    if json_depth(text) > max_depth:
        raise InputRefused(f"is nested more than {max_depth} deep", location)
    try:
        value = json.loads(text, parse_int=_int_parser(max_int), parse_float=_parse_float,
                           parse_constant=_Refused)
    except ValueError as exc:  # JSONDecodeError, and int() beyond its digit limit
        raise MalformedJson(str(exc), location) from None
    return check_value(value, max_depth=max_depth, max_int=max_int, location=location)
