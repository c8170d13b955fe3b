"""JSON Schema `format` checks the embedded schemas rely on, strict and dependency-free.

jsonschema checks `uri` only when an optional package is installed; without one every
string passed, so `icons[].src: ""` was published and then served in breach of the schema.
This is RFC 3986 section 3 as written: an absolute URI (a scheme, then `:`), ASCII only,
percent-escapes well formed, an IP literal a real IPv6 address (or IPvFuture).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from jsonschema import FormatChecker

_UNRESERVED = r"A-Za-z0-9\-._~"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_USERINFO = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_REG_NAME = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
_AUTHORITY_FORM = (rf"//(?:{_USERINFO}@)?(?P<host>\[[^\]/?#@]*\]|{_REG_NAME})(?::[0-9]*)?"
                   rf"(?:/{_PCHAR}*)*")
_PATH_FORM = rf"/?(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"  # path-absolute, -rootless or -empty
_URI = re.compile(
    rf"[A-Za-z][A-Za-z0-9+\-.]*:(?:{_AUTHORITY_FORM}|{_PATH_FORM})"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?(?:#(?:{_PCHAR}|[/?])*)?"
)
_IP_FUTURE = re.compile(rf"v[0-9A-Fa-f]+\.[{_UNRESERVED}{_SUB_DELIMS}:]+")


def is_uri(value: str) -> bool:
    """True for an absolute URI as RFC 3986 defines it (no IRIs, no relative references)."""
    match = _URI.fullmatch(value)
    if match is None:
        return False
    host = match.group("host")
    if host and host.startswith("["):
        literal = host[1:-1]
        if _IP_FUTURE.fullmatch(literal):
            return True
        try:
            ipaddress.IPv6Address(literal)
        except ValueError:
            return False
    return True


def format_checker() -> FormatChecker:
    """jsonschema's checker with `uri` checked by is_uri (non-strings pass, as the spec says)."""
    checker = FormatChecker()

    @checker.checks("uri")
    def _uri(instance: Any) -> bool:
        return not isinstance(instance, str) or is_uri(instance)

    return checker
