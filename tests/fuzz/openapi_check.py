"""Does an answer match the API document? Status documented, content type, body schema.

Schemathesis does this for the fuzz cases; the contract test checks hand-written requests
with this small equivalent (jsonschema over the same document), so a wrong schema fails
there with one readable message.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

_URN = "urn:mcp-index-openapi"
_REF = "#/components/"


def resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """Follow a `#/components/…` reference (responses, parameters) to its object."""
    ref = node.get("$ref", "")
    if not ref.startswith(_REF):
        return node
    section, name = ref[len(_REF):].split("/", 1)
    return resolve(doc, doc["components"][section][name])


def _absolute(schema: Any) -> Any:
    """The schema with its local references pointed at the whole document."""
    if isinstance(schema, dict):
        return {k: (_URN + v if k == "$ref" and isinstance(v, str) and v.startswith("#")
                    else _absolute(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_absolute(v) for v in schema]
    return schema


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def problems(doc: dict[str, Any], method: str, template: str, status: int, content_type: str,
             body: bytes) -> list[str]:
    """Everything about one answer that the document does not describe (empty: it matches)."""
    operation = doc["paths"][template][method.lower()]
    responses = operation["responses"]
    documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") \
        or responses.get("default")
    if documented is None:
        return [f"{method} {template}: status {status} is not documented ({', '.join(responses)})"]
    content = resolve(doc, documented).get("content", {})
    if not content:
        return [] if not body else [f"{method} {template} {status}: a body where none is documented"]
    media = _media(content_type)
    spec = next((v for k, v in content.items() if _media(k) == media), None)
    if spec is None:
        return [f"{method} {template} {status}: content type {media} is not one of {list(content)}"]
    if media.endswith("json"):
        instance: Any = json.loads(body)
    elif media.endswith("yaml"):
        instance = yaml.safe_load(body)
    else:
        instance = body.decode()
    schema = _absolute(copy.deepcopy(spec.get("schema", {})))
    registry = Registry().with_resource(_URN, Resource.from_contents(doc, DRAFT202012))
    errors = sorted(Draft202012Validator(schema, registry=registry).iter_errors(instance),
                    key=lambda e: list(e.absolute_path))
    return [f"{method} {template} {status}: {'/'.join(map(str, e.absolute_path))}: {e.message[:300]}"
            for e in errors[:5]]
