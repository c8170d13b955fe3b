"""Template helpers: safe links from untrusted manifests, query-string edits, badges."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import QueryDict

from web.selectors import http_url as _http_url

register = template.Library()


@register.filter
def http_url(value: Any) -> str:
    """The value when it is an http(s) URL, else "" (so `javascript:` never becomes a link)."""
    return _http_url(value)


@register.simple_tag(takes_context=True)
def query(context: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters replaced (None or "" removes one)."""
    params: QueryDict = context["request"].GET.copy()
    for key, value in changes.items():
        params.pop(key, None)
        if value not in (None, ""):
            params[key] = str(value)
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def inputs(value: Any) -> list[dict[str, Any]]:
    """A list of dicts from a manifest field (anything else becomes an empty list)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


@register.filter
def get(value: Any, key: str) -> Any:
    """`mapping|get:"key"` for keys that are not valid template identifiers ($schema…)."""
    return value.get(key) if isinstance(value, dict) else None


@register.filter
def pattern_namespace(pattern: str) -> str:
    """`io.github.acme/*` -> `io.github.acme`; "" for patterns that are not a whole namespace."""
    if isinstance(pattern, str) and pattern.endswith("/*") and "*" not in pattern[:-1]:
        return pattern[:-2]
    return ""
