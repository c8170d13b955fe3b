"""Render our Helm chart without Helm (it cannot be installed here).

A small interpreter for the Go-template subset the chart uses, with Helm's meaning:
actions with `{{-`/`-}}` whitespace trimming and comments; `if`/`else if`/`else`, `with`,
`range` (lists, and maps in key order, with `$k, $v :=`), `define` and `include`; pipelines
with `|` and parentheses; `.` fields, `$`, variables; and the functions in FUNCTIONS. Anything
else raises TemplateError rather than rendering something Helm would not.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.DOTALL)
TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|(`[^`]*`)|(:=|[|(),])|([^\s|(),"`]+))')


class TemplateError(Exception):
    """The template uses something this renderer (or Helm) does not accept."""


@dataclass
class Node:
    kind: str  # text | action | if | with | range
    text: str = ""
    branches: list[tuple[str, list[Node]]] = field(default_factory=list)
    otherwise: list[Node] = field(default_factory=list)


def _tokens(source: str) -> list[tuple[str, str]]:
    """Text and action tokens, with the trim markers applied to the neighbouring text."""
    out: list[tuple[str, str]] = []
    pos, trim_next = 0, False
    for match in ACTION.finditer(source):
        text = source[pos:match.start()]
        if trim_next:
            text = text.lstrip()
        if match.group(1):
            text = text.rstrip()
        out.append(("text", text))
        out.append(("action", match.group(2).strip()))
        pos, trim_next = match.end(), bool(match.group(3))
    tail = source[pos:]
    out.append(("text", tail.lstrip() if trim_next else tail))
    return out


class Template:
    """Every file of a chart parsed into one set of named templates, as Helm does."""

    def __init__(self) -> None:
        self.defines: dict[str, list[Node]] = {}
        self.files: dict[str, list[Node]] = {}

    def add(self, name: str, source: str) -> None:
        self._stream, self._pos = _tokens(source), 0
        self.files[name], _ = self._block(())

    def _block(self, stops: tuple[str, ...]) -> tuple[list[Node], str]:
        nodes: list[Node] = []
        while self._pos < len(self._stream):
            kind, value = self._stream[self._pos]
            self._pos += 1
            word = value.split(None, 1)[0] if kind == "action" and value else ""
            if kind == "text":
                nodes.append(Node("text", value))
            elif value.startswith("/*"):
                continue
            elif word in ("end", "else"):
                if word not in stops:
                    raise TemplateError(f"unexpected {{{{ {value} }}}}")
                return nodes, value
            elif word in ("if", "with", "range"):
                nodes.append(self._control(word, value[len(word):].strip()))
            elif word == "define":
                name = json.loads(value[len(word):].strip())
                self.defines[name], _ = self._block(("end",))
            else:
                nodes.append(Node("action", value))
        if stops:
            raise TemplateError("missing {{ end }}")
        return nodes, ""

    def _control(self, word: str, expr: str) -> Node:
        node = Node(word)
        body, stop = self._block(("end", "else"))
        node.branches.append((expr, body))
        while stop.startswith("else"):
            rest = stop[4:].strip()
            if word == "if" and rest.startswith("if "):
                body, stop = self._block(("end", "else"))
                node.branches.append((rest[3:].strip(), body))
            elif not rest:
                node.otherwise, stop = self._block(("end",))
            else:
                raise TemplateError(f"unsupported {{{{ {stop} }}}}")
        return node

    def render(self, nodes: list[Node], dot: Any, scope: dict[str, Any]) -> str:
        out: list[str] = []
        for node in nodes:
            if node.kind == "text":
                out.append(node.text)
            elif node.kind == "action":
                names, value = self._pipeline(node.text, dot, scope)
                if names:  # `$x := ...` prints nothing
                    scope[names[0]] = value
                else:
                    out.append(_printed(value))
            elif node.kind == "if":
                for expr, body in node.branches:
                    if _truth(self._pipeline(expr, dot, scope)[1]):
                        out.append(self.render(body, dot, scope))
                        break
                else:
                    out.append(self.render(node.otherwise, dot, scope))
            elif node.kind == "with":
                value = self._pipeline(node.branches[0][0], dot, scope)[1]
                chosen = node.branches[0][1] if _truth(value) else node.otherwise
                out.append(self.render(chosen, value if _truth(value) else dot, dict(scope)))
            else:
                out.append(self._range(node, dot, scope))
        return "".join(out)

    def _range(self, node: Node, dot: Any, scope: dict[str, Any]) -> str:
        names, value = self._pipeline(node.branches[0][0], dot, scope)
        if isinstance(value, dict):
            items = [(key, value[key]) for key in sorted(value)]
        elif isinstance(value, list):
            items = list(enumerate(value))
        elif value is None:
            items = []
        else:
            raise TemplateError(f"range over {type(value).__name__}")
        if not items:
            return self.render(node.otherwise, dot, dict(scope))
        out = []
        for key, item in items:
            inner = dict(scope)
            if len(names) == 1:
                inner[names[0]] = item
            elif len(names) == 2:
                inner[names[0]], inner[names[1]] = key, item
            out.append(self.render(node.branches[0][1], item, inner))
        return "".join(out)

    # --- pipelines ---------------------------------------------------------------------

    def _pipeline(self, expr: str, dot: Any, scope: dict[str, Any]) -> tuple[list[str], Any]:
        tokens = [next(t for t in match.groups() if t is not None) for match in TOKEN.finditer(expr)
                  if any(match.groups())]
        names: list[str] = []
        if ":=" in tokens:
            split = tokens.index(":=")
            names = [t for t in tokens[:split] if t != ","]
            tokens = tokens[split + 1:]
        commands, end = self._commands(tokens, 0)
        if end != len(tokens):
            raise TemplateError(f"unbalanced parentheses in {expr!r}")
        return names, self._run(commands, dot, scope)

    def _commands(self, tokens: list[str], pos: int) -> tuple[list[list[Any]], int]:
        commands: list[list[Any]] = [[]]
        while pos < len(tokens) and tokens[pos] != ")":
            token = tokens[pos]
            if token == "|":
                commands.append([])
            elif token == "(":
                inner, pos = self._commands(tokens, pos + 1)
                if pos >= len(tokens):
                    raise TemplateError("missing )")
                commands[-1].append(inner)
            else:
                commands[-1].append(token)
            pos += 1
        return commands, pos

    def _run(self, commands: list[list[Any]], dot: Any, scope: dict[str, Any]) -> Any:
        value: Any = _NOTHING
        for command in commands:
            head, args = command[0], command[1:]
            if isinstance(head, str) and (head == "include" or head in FUNCTIONS):
                values = [self._operand(arg, dot, scope) for arg in args]
                if value is not _NOTHING:
                    values.append(value)
                value = self._call(head, values)
            elif args or value is not _NOTHING:
                raise TemplateError(f"{head!r} is not a function")
            else:
                value = self._operand(head, dot, scope)
        return value

    def _call(self, name: str, args: list[Any]) -> Any:
        if name == "include":
            template, context = args
            if template not in self.defines:
                raise TemplateError(f"no template {template!r}")
            return self.render(self.defines[template], context, {"$": context})
        return FUNCTIONS[name](*args)

    def _operand(self, token: Any, dot: Any, scope: dict[str, Any]) -> Any:
        if isinstance(token, list):
            return self._run(token, dot, scope)
        if token.startswith('"'):
            return json.loads(token)
        if token.startswith("`"):
            return token[1:-1]
        if re.fullmatch(r"-?\d+", token):
            return int(token)
        if token in ("true", "false", "nil"):
            return {"true": True, "false": False, "nil": None}[token]
        if token.startswith("."):
            base, path = dot, token[1:]
        elif token.startswith("$"):
            name, _, path = token.partition(".")
            if name not in scope:
                raise TemplateError(f"undefined variable {name}")
            base = scope[name]
        else:
            raise TemplateError(f"unknown function {token!r}")
        for part in filter(None, path.split(".")):
            if not isinstance(base, dict):
                raise TemplateError(f"nil pointer evaluating {token}")
            base = base.get(part)
        return base


_NOTHING = object()


def _truth(value: Any) -> bool:
    return bool(value)


def _printed(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        raise TemplateError("printing a map or list; use toYaml")
    return str(value)


def _to_yaml(value: Any) -> str:
    if value is None:
        return "null"
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=True).rstrip("\n")


def _indent(width: int, text: str) -> str:
    pad = " " * width
    return pad + text.replace("\n", "\n" + pad)


def _required(message: str, value: Any) -> Any:
    if value is None or value == "":
        raise TemplateError(message)
    return value


def _and(*args: Any) -> Any:
    for arg in args:
        if not _truth(arg):
            return arg
    return args[-1]


def _or(*args: Any) -> Any:
    for arg in args:
        if _truth(arg):
            return arg
    return args[-1]


# Helm's (sprig's) functions the chart uses; `include` is Template._call's, as it renders.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "toYaml": _to_yaml,
    "indent": _indent,
    "nindent": lambda width, text: "\n" + _indent(width, text),
    "quote": lambda *a: " ".join(json.dumps(_printed(v), ensure_ascii=False) for v in a if v is not None),
    "default": lambda fallback, *given: given[0] if given and _truth(given[0]) else fallback,
    "required": _required,
    "printf": lambda fmt, *a: fmt % a,
    "trunc": lambda n, text: text[:n],
    "trimSuffix": lambda suffix, text: text[: -len(suffix)] if suffix and text.endswith(suffix) else text,
    "sha256sum": lambda text: hashlib.sha256(text.encode()).hexdigest(),
    "eq": lambda a, *b: any(a == x for x in b),
    "ne": lambda a, b: a != b,
    "not": lambda a: not _truth(a),
    "and": _and,
    "or": _or,
}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def render_chart(chart_dir: Path, values: dict[str, Any] | None = None,
                 release: str = "reg", namespace: str = "default") -> dict[str, str]:
    """Every manifest file of the chart rendered with values.yaml merged with `values`."""
    chart = yaml.safe_load((chart_dir / "Chart.yaml").read_text())
    merged = _merge(yaml.safe_load((chart_dir / "values.yaml").read_text()) or {}, values or {})
    context = {
        "Values": merged,
        "Release": {"Name": release, "Namespace": namespace, "Service": "Helm",
                    "IsInstall": True, "IsUpgrade": False, "Revision": 1},
        "Chart": {"Name": chart["name"], "Version": chart["version"],
                  "AppVersion": chart.get("appVersion", "")},
    }
    template = Template()
    paths = sorted((chart_dir / "templates").iterdir())
    for path in paths:
        template.add(path.name, path.read_text())
    return {
        name: template.render(nodes, context, {"$": context})
        for name, nodes in template.files.items()
        if name.endswith((".yaml", ".yml")) and not name.startswith("_")
    }


def render_documents(chart_dir: Path, values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rendered chart as Kubernetes objects (empty documents dropped)."""
    docs: list[dict[str, Any]] = []
    for text in render_chart(chart_dir, values).values():
        docs.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return docs
