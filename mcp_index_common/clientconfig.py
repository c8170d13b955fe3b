"""Client configuration from a server.json: Claude Desktop, Claude Code, VS Code, Cursor and a
generic `mcpServers` entry.

The one implementation behind the web catalog's server page and the MCP tool
`get_install_config` (serving.mcp), which is why it lives here, below both.
Pure functions over the manifest dict (no Django): every value comes from untrusted
manifest text, so shell commands are built with `shlex.quote` and JSON with `json.dumps`.
Secrets never get a value: VS Code prompts through `${input:…}`, the other clients get a
`<YOUR_…>` placeholder to replace by hand.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

STDIO = "stdio"
HTTP = "http"
SSE = "sse"

# How each package registry is launched: (command, args before the package, spec format).
_LAUNCHERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "npm": ("npx", ("-y",), "{id}@{version}"),
    "pypi": ("uvx", (), "{id}=={version}"),
    "nuget": ("dnx", (), "{id}@{version}"),
    "oci": ("docker", ("run", "-i", "--rm"), "{id}"),
}
_VAR = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Prompt:
    """A value the user must supply: a secret or a required setting without a default."""

    id: str
    description: str
    secret: bool

    @property
    def placeholder(self) -> str:
        """What file-based clients show in place of the value."""
        stem = re.sub(r"[^A-Za-z0-9]+", "_", self.id).strip("_").upper() or "VALUE"
        return f"<YOUR_{stem}>" if self.secret else f"<{stem}>"


@dataclass(frozen=True)
class Value:
    """A string built from literal text and prompts (a URL with `{tenant}`, `Bearer {token}`)."""

    parts: tuple[str | Prompt, ...]

    def render(self, style: str) -> str:
        """`style` is `placeholder` (`<YOUR_KEY>`) or `vscode` (`${input:key}`)."""
        out = []
        for part in self.parts:
            if isinstance(part, Prompt):
                out.append(f"${{input:{part.id}}}" if style == "vscode" else part.placeholder)
            else:
                out.append(part)
        return "".join(out)


@dataclass(frozen=True)
class Launch:
    """One way to run or reach the server, normalised from a package or a remote."""

    key: str
    label: str
    transport: str  # stdio | http | sse
    command: str = ""
    args: tuple[Value, ...] = ()
    env: tuple[tuple[str, Value], ...] = ()
    url: Value | None = None
    headers: tuple[tuple[str, Value], ...] = ()
    prompts: tuple[Prompt, ...] = ()
    note: str = ""
    download: str = ""  # a bundle to install by hand instead of a command
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def configurable(self) -> bool:
        """False for bundles: there is no command or URL to put in a client's config."""
        return not self.download

    @property
    def is_remote(self) -> bool:
        return self.transport != STDIO


@dataclass(frozen=True)
class ClientConfigs:
    """Ready-to-paste text for each client."""

    claude_desktop: str
    claude_code: str
    vscode: str
    cursor: str


@dataclass
class _Prompts:
    """Collects prompts with unique ids while a launch is built."""

    items: dict[str, Prompt] = field(default_factory=dict)

    def get(self, name: str, spec: dict[str, Any]) -> Prompt:
        pid = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "value"
        if pid not in self.items:
            self.items[pid] = Prompt(id=pid, description=_str(spec.get("description")) or name,
                                     secret=bool(spec.get("isSecret")))
        return self.items[pid]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def server_key(name: str) -> str:
    """The short key a client lists the server under: `io.github.acme/db` -> `db`."""
    tail = name.rsplit("/", 1)[-1]
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", tail).strip("-") or "server"


def _input_value(spec: dict[str, Any], name: str, prompts: _Prompts, *, required: bool
                 ) -> Value | None:
    """The value of an input: its fixed value, else a prompt or its default; None to omit."""
    variables = _dict(spec.get("variables"))
    fixed = _str(spec.get("value"))
    if fixed:
        return _substitute(fixed, variables, prompts)
    if spec.get("isSecret"):
        return Value((prompts.get(name, spec),))
    default = _str(spec.get("default"))
    if default:
        return Value((default,))
    if required or spec.get("isRequired"):
        return Value((prompts.get(name, spec),))
    return None


def _substitute(text: str, variables: dict[str, Any], prompts: _Prompts,
                extra: dict[str, str] | None = None) -> Value:
    """Split `text` on `{var}`: known variables become defaults or prompts."""
    parts: list[str | Prompt] = []
    pos = 0
    for match in _VAR.finditer(text):
        var = match.group(1)
        spec = variables.get(var)
        if isinstance(spec, dict):
            default = _str(spec.get("default"))
            replacement: str | Prompt = (default if default and not spec.get("isSecret")
                                         else prompts.get(var, spec))
        elif extra and var in extra:
            replacement = extra[var]
        else:
            continue
        parts += [text[pos:match.start()], replacement]
        pos = match.end()
    parts.append(text[pos:])
    return Value(tuple(p for p in parts if p != ""))


def _arguments(specs: Any, prompts: _Prompts) -> tuple[list[Value], dict[str, str]]:
    """Command-line arguments, plus the named values (for `{--port}` in a transport URL)."""
    args: list[Value] = []
    named: dict[str, str] = {}
    for spec in _dicts(specs):
        kind = spec.get("type")
        if kind == "named":
            flag = _str(spec.get("name"))
            if not flag:
                continue
            value = _input_value(spec, flag.lstrip("-"), prompts, required=False)
            if value is None:
                if spec.get("isRequired"):
                    args.append(Value((flag,)))
                continue
            args += [Value((flag,)), value]
            named[flag] = value.render("placeholder")
        else:
            hint = _str(spec.get("valueHint")) or "value"
            value = _input_value(spec, hint, prompts, required=False)
            if value is not None:
                args.append(value)
    return args, named


def _key_values(specs: Any, prompts: _Prompts) -> list[tuple[str, Value]]:
    """Environment variables or headers that need a value (required, secret or fixed)."""
    out = []
    for spec in _dicts(specs):
        name = _str(spec.get("name"))
        if not name:
            continue
        if not (spec.get("isRequired") or spec.get("isSecret") or spec.get("value")):
            continue  # optional settings keep their defaults
        value = _input_value(spec, name, prompts, required=True)
        if value is not None:
            out.append((name, value))
    return out


def _package_launch(key: str, package: dict[str, Any]) -> Launch:
    prompts = _Prompts()
    registry = _str(package.get("registryType")).lower()
    ident = _str(package.get("identifier"))
    version = _str(package.get("version"))
    transport = _dict(package.get("transport"))
    runtime_args, _ = _arguments(package.get("runtimeArguments"), prompts)
    package_args, named = _arguments(package.get("packageArguments"), prompts)
    env = _key_values(package.get("environmentVariables"), prompts)
    label = f"{registry or 'package'}: {ident}"
    note = ""
    prefix: tuple[str, ...]
    launcher = _LAUNCHERS.get(registry)
    if registry == "mcpb":
        return Launch(key=key, label=label, transport=STDIO, download=ident,
                      note="An MCP bundle: download it and open it in Claude Desktop.")
    if launcher is None:
        command, prefix, spec_text = ident, (), ""
        note = (f"{registry or 'This'} packages have no standard launcher: install "
                f"{ident} first, then run it.")
    else:
        command, prefix, fmt = launcher
        spec_text = fmt.format(id=ident, version=version) if version else ident
    hint = _str(package.get("runtimeHint"))
    if hint and launcher is not None and hint != command:
        command, prefix = hint, ()
    args = [Value((a,)) for a in prefix]
    if registry == "oci":
        args += runtime_args
        for name, _ in env:  # `-e NAME` passes the variable through from `env`
            args += [Value(("-e",)), Value((name,))]
        args.append(Value((spec_text,)))
        args += package_args
    else:
        args += runtime_args
        if spec_text:
            args.append(Value((spec_text,)))
        if registry == "nuget":
            args.append(Value(("--yes",)))
            if package_args:
                args.append(Value(("--",)))
        args += package_args
    kind = _str(transport.get("type")) or STDIO
    if kind in ("streamable-http", SSE):
        url = _substitute(_str(transport.get("url")), {}, prompts, extra=named)
        shell = " ".join(shlex.quote(a.render("placeholder")) for a in [Value((command,)), *args])
        return Launch(key=key, label=label, transport=HTTP if kind != SSE else SSE, url=url,
                      prompts=tuple(prompts.items.values()),
                      note=(note + " " if note else "") + f"Start the server first: {shell}")
    return Launch(key=key, label=label, transport=STDIO, command=command, args=tuple(args),
                  env=tuple(env), prompts=tuple(prompts.items.values()), note=note)


def _remote_launch(key: str, remote: dict[str, Any]) -> Launch:
    prompts = _Prompts()
    variables = _dict(remote.get("variables"))
    url = _substitute(_str(remote.get("url")), variables, prompts)
    headers = _key_values(remote.get("headers"), prompts)
    kind = SSE if remote.get("type") == SSE else HTTP
    return Launch(key=key, label=f"remote ({_str(remote.get('type')) or 'http'}): "
                  f"{_str(remote.get('url'))}", transport=kind, url=url, headers=tuple(headers),
                  prompts=tuple(prompts.items.values()))


def launches(manifest: dict[str, Any]) -> list[Launch]:
    """Every way to use the server: one per package, then one per remote."""
    key = server_key(_str(manifest.get("name")))
    out = [replace(_package_launch(key, p), source=p) for p in _dicts(manifest.get("packages"))
           if _str(p.get("identifier"))]
    out += [replace(_remote_launch(key, r), source=r) for r in _dicts(manifest.get("remotes"))
            if _str(r.get("url"))]
    return out


def _render_pairs(pairs: tuple[tuple[str, Value], ...], style: str) -> dict[str, str]:
    return {name: value.render(style) for name, value in pairs}


def _stdio_entry(launch: Launch, style: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"command": launch.command,
                             "args": [a.render(style) for a in launch.args]}
    if launch.env:
        entry["env"] = _render_pairs(launch.env, style)
    return entry


def _dump(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)


def claude_desktop(launch: Launch) -> str:
    """`claude_desktop_config.json`: remotes go through the `mcp-remote` bridge."""
    if launch.is_remote:
        assert launch.url is not None
        args = ["-y", "mcp-remote", launch.url.render("placeholder")]
        for name, value in launch.headers:
            args += ["--header", f"{name}: {value.render('placeholder')}"]
        entry: dict[str, Any] = {"command": "npx", "args": args}
    else:
        entry = _stdio_entry(launch, "placeholder")
    return _dump({"mcpServers": {launch.key: entry}})


def claude_code(launch: Launch) -> str:
    """A `claude mcp add` command line, every word shell-quoted."""
    words = ["claude", "mcp", "add"]
    if launch.is_remote:
        assert launch.url is not None
        words += ["--transport", launch.transport]
        for name, value in launch.headers:
            words += ["--header", f"{name}: {value.render('placeholder')}"]
        words += [launch.key, launch.url.render("placeholder")]
    else:
        for name, value in launch.env:
            words += ["--env", f"{name}={value.render('placeholder')}"]
        words += [launch.key, "--", launch.command, *[a.render("placeholder") for a in launch.args]]
    return " ".join(shlex.quote(w) for w in words)


def vscode(launch: Launch) -> str:
    """`.vscode/mcp.json`: `servers`, with `inputs` that prompt for each secret or setting."""
    if launch.is_remote:
        assert launch.url is not None
        entry: dict[str, Any] = {"type": launch.transport, "url": launch.url.render("vscode")}
        if launch.headers:
            entry["headers"] = _render_pairs(launch.headers, "vscode")
    else:
        entry = {"type": STDIO, **_stdio_entry(launch, "vscode")}
    inputs = [{"type": "promptString", "id": p.id, "description": p.description,
               **({"password": True} if p.secret else {})} for p in launch.prompts]
    return _dump({"inputs": inputs, "servers": {launch.key: entry}})


def cursor(launch: Launch) -> str:
    """`.cursor/mcp.json` (or `~/.cursor/mcp.json`): `mcpServers`; remotes by `url`."""
    if launch.is_remote:
        assert launch.url is not None
        entry: dict[str, Any] = {"url": launch.url.render("placeholder")}
        if launch.headers:
            entry["headers"] = _render_pairs(launch.headers, "placeholder")
    else:
        entry = _stdio_entry(launch, "placeholder")
    return _dump({"mcpServers": {launch.key: entry}})


def generic(launch: Launch) -> str:
    """The common `mcpServers` shape most other clients read, with an explicit `type`."""
    if launch.is_remote:
        assert launch.url is not None
        entry: dict[str, Any] = {"type": launch.transport, "url": launch.url.render("placeholder")}
        if launch.headers:
            entry["headers"] = _render_pairs(launch.headers, "placeholder")
    else:
        entry = {"type": STDIO, **_stdio_entry(launch, "placeholder")}
    return _dump({"mcpServers": {launch.key: entry}})


# Each client by the name tools and URLs use, with its renderer and what the text is.
CLIENTS: dict[str, tuple[Callable[[Launch], str], str]] = {
    "claude-desktop": (claude_desktop, "json"),
    "claude-code": (claude_code, "shell"),
    "vscode": (vscode, "json"),
    "cursor": (cursor, "json"),
    "generic": (generic, "json"),
}


def configs_for(launch: Launch) -> ClientConfigs:
    """All four clients' text for one launch."""
    return ClientConfigs(claude_desktop=claude_desktop(launch), claude_code=claude_code(launch),
                         vscode=vscode(launch), cursor=cursor(launch))
