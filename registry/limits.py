"""Column limits, enforced before the database sees a value (a 422 naming the field, not a 500).

Services that write call `check_columns(Model, values)` with what they are about to store:
every string against its column's `max_length` (a TextField against an explicit limit, or
TEXT_MAX), and every string, also inside JSON columns, through the input boundary (no NUL,
no lone surrogate, which PostgreSQL refuses). JSON columns can be given a size limit.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.db import models

from mcp_index_common.input import text_problem, value_problem
from registry.errors import InvalidInput

TEXT_MAX = 1024 * 1024  # characters: the body limit; a TextField without its own limit


def _fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    return {f.name: f for f in model._meta.concrete_fields}


def check_text(value: str, *, field: str, limit: int | None) -> None:
    """InvalidInput when `value` cannot be stored or is longer than `limit` characters."""
    problem = text_problem(value)
    if problem:
        raise InvalidInput(f"{field} {problem}", location=field)
    if limit is not None and len(value) > limit:
        raise InvalidInput(f"{field} is longer than {limit} characters", location=field)


def check_columns(model: type[models.Model], values: Mapping[str, Any], *,
                  limits: Mapping[str, int] | None = None, prefix: str = "") -> None:
    """InvalidInput for the first value `model`'s columns cannot hold.

    `limits` gives explicit limits: characters for text columns (TextFields have no
    max_length), bytes of compact JSON for JSON columns. Locations are the field names,
    after `prefix` (`rules[2].`).
    """
    fields = _fields(model)
    for name, value in values.items():
        field = fields.get(name)
        if field is None:
            continue
        limit = (limits or {}).get(name)
        label = prefix + name
        if isinstance(field, models.JSONField):
            problem = value_problem(value, location=label)
            if problem is not None:
                raise InvalidInput(str(problem), location=problem.location)
            if limit is not None:
                size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
                if size > limit:
                    raise InvalidInput(f"{label} is larger than {limit} bytes", location=label)
        elif isinstance(value, str):
            if limit is None:
                limit = field.max_length or (TEXT_MAX if isinstance(field, models.TextField) else None)
            check_text(value, field=label, limit=limit)


def check_instance(instance: models.Model, *, limits: Mapping[str, int] | None = None) -> None:
    """check_columns on every concrete field of a model instance about to be saved."""
    values = {f.name: getattr(instance, f.attname) for f in instance._meta.concrete_fields
              if not f.is_relation}
    check_columns(type(instance), values, limits=limits)


def check_string_list(values: list[str], *, field: str, max_items: int, max_length: int) -> None:
    """InvalidInput for a list of strings (name patterns, sources) that is too long or holds
    a string that is too long or cannot be stored."""
    if len(values) > max_items:
        raise InvalidInput(f"{field} holds {len(values)} entries; at most {max_items} are allowed",
                           location=field)
    for i, value in enumerate(values):
        check_text(value, field=f"{field}[{i}]", limit=max_length)
