"""What /docs shows: the document's operations grouped by tag, ready for the template."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from apidocs.document import METHODS

_CODE = re.compile(r"`([^`]+)`")
_REF = "#/components/"


def prose(text: str | None) -> SafeString:
    """Escaped text with `code` spans and paragraphs (the source's descriptions are short)."""
    html = _CODE.sub(r"<code>\1</code>", escape((text or "").strip()))
    paragraphs = [p.replace("\n", " ") for p in html.split("\n\n") if p.strip()]
    return mark_safe("".join(f"<p>{p}</p>" for p in paragraphs))  # noqa: S308 (escaped above)


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref", "")
    if not ref.startswith(_REF):
        return node
    section, name = ref[len(_REF):].split("/", 1)
    return _resolve(doc, doc["components"][section][name])


def schema_label(schema: dict[str, Any] | None) -> str:
    """`ServerList`, `array of Policy`, `string`, …: a short name for a schema."""
    if not schema:
        return "any"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " + ".join(schema_label(s) for s in schema["allOf"] if s.get("$ref") or s.get("type"))
    if "anyOf" in schema:
        return " or ".join(schema_label(s) for s in schema["anyOf"])
    kind = schema.get("type", "object" if "properties" in schema else "any")
    if kind == "array":
        return f"array of {schema_label(schema.get('items'))}"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if "const" in schema:
        return json.dumps(schema["const"])
    return str(kind)


@dataclass
class Operation:
    method: str
    path: str
    op_id: str
    summary: str
    description: SafeString
    auth: str
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: list[dict[str, str]] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    also_at: list[str] = field(default_factory=list)


def _auth(operation: dict[str, Any]) -> str:
    security = operation.get("security", [])
    if not security:
        return "none"
    if {} in security:
        return "optional bearer token"
    return "bearer token"


def _operation(doc: dict[str, Any], method: str, path: str, op: dict[str, Any]) -> Operation:
    params = []
    for raw in op.get("parameters", []):
        p = _resolve(doc, raw)
        params.append({"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "type": schema_label(p.get("schema")), "description": prose(p.get("description"))})
    body = [{"type": media, "schema": schema_label(spec.get("schema"))}
            for media, spec in op.get("requestBody", {}).get("content", {}).items()]
    responses = []
    for code, raw in op["responses"].items():
        r = _resolve(doc, raw)
        content = r.get("content", {})
        responses.append({"code": code, "description": prose(r.get("description")),
                          "media": [{"type": m, "schema": schema_label(c.get("schema"))}
                                    for m, c in content.items()]})
    return Operation(method=method.upper(), path=path, op_id=op["operationId"],
                     summary=op.get("summary", ""), description=prose(op.get("description")),
                     auth=_auth(op), parameters=params, body=body, responses=responses)


def page_context(doc: dict[str, Any]) -> dict[str, Any]:
    """Tags with their operations (copies at other bases folded into `also_at`) and schemas."""
    by_id: dict[str, Operation] = {}
    tags: dict[str, list[Operation]] = {t["name"]: [] for t in doc.get("tags", [])}
    for path, item in doc["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            source = op.get("x-same-as")
            if source in by_id:
                by_id[source].also_at.append(path)
                continue
            entry = _operation(doc, method, path, op)
            by_id[entry.op_id] = entry
            for tag in op.get("tags", ["other"]):
                tags.setdefault(tag, []).append(entry)
    descriptions = {t["name"]: prose(t.get("description")) for t in doc.get("tags", [])}
    schemas = [{"name": name, "json": json.dumps(schema, indent=2, ensure_ascii=False)}
               for name, schema in sorted(doc["components"]["schemas"].items())]
    return {
        "info": doc["info"], "description": prose(doc["info"].get("description")),
        "tags": [{"name": n, "description": descriptions.get(n, ""), "operations": ops}
                 for n, ops in tags.items() if ops],
        "schemas": schemas, "operation_count": sum(len(list(_methods(i))) for i in doc["paths"].values()),
    }


def _methods(item: dict[str, Any]) -> list[str]:
    return [m for m in METHODS if m in item]
