"""The API's JSON parser: every request body passes mcp_index_common.input's boundary.

Set as DRF's only parser (REST_FRAMEWORK in config/settings.py), so no view sees a body
holding NUL or a lone surrogate, a number outside ±(2^53-1) or non-finite, or nesting
deeper than MAX_DEPTH; the recursive decoder never runs on such a text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from mcp_index_common.input import InputRefused, MalformedJson, parse_json


class BodyRefused(ParseError):
    """Well-formed JSON we do not accept; `location` and `reason` say where and why."""

    def __init__(self, refused: InputRefused) -> None:
        super().__init__(str(refused))
        self.location = refused.location
        self.reason = refused.reason


class StrictJSONParser(JSONParser):
    """application/json through the input boundary (400 problem+json on refusal).

    A JSONParser subclass, so DRF hands it a copy of `request.body` and the view can still
    read the exact bytes afterwards (the Idempotency-Key hash).
    """

    def parse(self, stream: IO[bytes] | None, media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text: bytes | str = raw if encoding.lower() in ("utf-8", "utf8") else raw.decode(encoding)
            return parse_json(text)
        except MalformedJson as exc:
            raise ParseError(f"JSON parse error - {exc.reason}") from None
        except InputRefused as exc:
            raise BodyRefused(exc) from None
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"JSON parse error - cannot decode the body as {encoding}: {exc}"
                             ) from None
