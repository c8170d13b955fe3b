"""RFC 8785 (JCS) canonical JSON through the C encoder, byte for byte what `rfc8785` writes.

`rfc8785.dumps` is pure Python: about 95 µs for a typical manifest, most of a mirrored
entry's digest. For most values the C encoder (`sort_keys`, `ensure_ascii=False`, separators
`,` and `:`) writes the very same text: JCS strings escape exactly `"`, `\\` and the C0
controls (`\\b \\f \\n \\r \\t`, the others as lower-case `\\u00xx`) and keep every other
character as UTF-8, as the encoder does; integers are their digits; `null`, `true`, `false`
are spelled alike. The two can differ only where the value holds

- a float (JCS writes ECMAScript's shortest form: `1e+21`, `1e-7`, `0` for `-0.0`),
- an integer outside ±(2^53-1) (rfc8785 refuses it),
- a character beyond U+FFFF in a key (JCS sorts keys by UTF-16 code units, the encoder by
  code points: the orders disagree only between such characters and U+E000-U+FFFF),
- a lone surrogate (not UTF-8: rfc8785 refuses it),
- a key that is not a string, or anything but dict, list, str, int, bool and None
  (subclasses included: rfc8785 and the encoder may each see them their own way).

The first two and the last are found by a walk over the containers (a few µs: documents
have few nodes), the others in the encoder's text; then `rfc8785.dumps` itself answers, so
the result, or the error, is always rfc8785's. About 15 µs for the typical manifest.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rfc8785

_MAX_SAFE_INTEGER = 2**53 - 1  # RFC 8785 §3.2.2.3 (what rfc8785 accepts)
# A prebuilt encoder: json.dumps with any option builds a new one per call (~14 µs).
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                            allow_nan=False)
# Any character beyond U+FFFF, in a key or a value: telling them apart would cost a scan per
# character found, and documents holding one are few (2 of the 2,435 of the real registry).
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical form of a JSON value, as UTF-8: rfc8785.dumps's bytes."""
    try:
        text = _ENCODER.encode(value)
    except (TypeError, ValueError, RecursionError):  # no JSON form, NaN, a cycle, too deep
        return rfc8785.dumps(value)  # raises its own error (or writes what it accepts)
    if not _plain(value) or (not text.isascii() and _ASTRAL.search(text)):
        return rfc8785.dumps(value)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return rfc8785.dumps(value)


def _plain(value: Any) -> bool:
    """Only dicts with str keys, lists, str, bool, None and safe integers (exact types).

    Called once the encoder has written the value, so it holds no cycle to walk around."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bool or item is None:
            continue
        if kind is dict:
            for key in item:
                if type(key) is not str:
                    return False
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind is int:
            if not -_MAX_SAFE_INTEGER <= item <= _MAX_SAFE_INTEGER:
                return False
        else:
            return False
    return True
