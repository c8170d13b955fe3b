"""`principals`, `trust-roots` and `policies`: the registry's trust configuration.

`list` is public; `add`, `set` and `remove` need a registry administrator's token (edit on
`*`). Exit codes follow the CLI's table: 3 the registry refused the input (422), 4 no token
or not an administrator (401/403), 5 the id is taken or still in use (409), 1 otherwise
(a 404 included).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from mcp_index_cli import output
from mcp_index_cli.config import DEFAULT_NAMESPACE, NAMESPACE_ENV
from mcp_index_cli.context import Context
from mcp_index_cli.errors import EXIT_USAGE, CliError
from mcp_index_cli.http import failure, segment
from mcp_index_common.statements import VERDICTS

# (command, what it manages, the API collection, the list's key in the response)
PRINCIPALS = ("principals", "principal", "principals", "principals")
TRUST_ROOTS = ("trust-roots", "trust root", "trust-roots", "trustRoots")
POLICIES = ("policies", "policy", "policies", "policies")


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add `principals`, `trust-roots` and `policies` with their actions."""
    _principals(sub, parents)
    _trust_roots(sub, parents)
    _policies(sub, parents)


def _group(sub: Any, parents: list[argparse.ArgumentParser], kind: tuple[str, ...],
           help_text: str) -> Any:
    command, what, _, _ = kind
    parser = sub.add_parser(command, parents=parents, help=help_text,
                            description=f"{help_text[0].upper()}{help_text[1:]}. Listing is "
                            "public; changes need a registry administrator's token.")
    actions = parser.add_subparsers(dest=f"{command}_action", metavar="ACTION", required=True)
    listing = _action(actions, parents, kind, "list", f"list every {what}")
    listing.set_defaults(func=run_list)
    remove = _action(actions, parents, kind, "remove", f"remove a {what}")
    remove.add_argument("id", help=f"the {what}'s id")
    remove.set_defaults(func=run_remove)
    return actions


def _action(actions: Any, parents: list[argparse.ArgumentParser], kind: tuple[str, ...],
            name: str, help_text: str) -> argparse.ArgumentParser:
    parser = actions.add_parser(name, parents=parents, help=help_text,
                                description=f"{help_text[0].upper()}{help_text[1:]}.")
    parser.set_defaults(kind=kind)
    parser.add_argument("--namespace", default=os.environ.get(NAMESPACE_ENV, DEFAULT_NAMESPACE),
                        help="our extension API's namespace (default: io.mcpindex)")
    return parser


def _principals(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    actions = _group(sub, parents, PRINCIPALS, "manage who may vouch for server versions")
    add = _action(actions, parents, PRINCIPALS, "add",
                  "add a principal: a public key or a sigstore identity")
    add.add_argument("id", help="a slug such as alice or acme-security")
    _principal_options(add)
    add.set_defaults(func=run_principal_add)
    change = _action(actions, parents, PRINCIPALS, "set",
                     "change a principal (only the options given)")
    change.add_argument("id")
    _principal_options(change)
    change.add_argument("--no-expiry", action="store_true", help="clear the expiry")
    change.set_defaults(func=run_principal_set)


def _principal_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--display-name", help="a human name (default: the id)")
    parser.add_argument("--public-key", type=Path, metavar="FILE",
                        help="key principal: its PEM public key (FILE.pub from "
                        "`keygen --signing`)")
    parser.add_argument("--issuer", help="sigstore principal: the OIDC issuer URL (exact)")
    parser.add_argument("--subject", help="sigstore principal: the certificate SAN (email, URI)")
    parser.add_argument("--pattern", action=argparse.BooleanOptionalAction, default=None,
                        help="sigstore principal: --subject is a full-match regular expression")
    parser.add_argument("--trust-root", metavar="ID",
                        help="sigstore principal: the trust root certifying it")
    parser.add_argument("--expires-at", metavar="TIME",
                        help="RFC 3339 time after which its signatures count no more")


def _trust_roots(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    actions = _group(sub, parents, TRUST_ROOTS, "manage the sigstore instances trusted")
    add = _action(actions, parents, TRUST_ROOTS, "add",
                  "add a trust root: a private sigstore instance, or the embedded public-good one")
    add.add_argument("id")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--trusted-root", type=Path, metavar="FILE",
                        help="the private instance's trusted_root.json")
    source.add_argument("--production", action="store_true",
                        help="sigstore's public-good instance (the root embedded in the registry)")
    add.add_argument("--name", help="a human name (default: the id)")
    add.add_argument("--inactive", action="store_true", help="add it switched off")
    add.set_defaults(func=run_trust_root_add)


def _policies(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    actions = _group(sub, parents, POLICIES, "manage k-of-n trust policies")
    add = _action(actions, parents, POLICIES, "add",
                  "add a trust policy: K of these principals must vouch")
    add.add_argument("id")
    add.add_argument("--threshold", type=int, required=True, metavar="K",
                     help="how many distinct principals must vouch (1 to their number)")
    add.add_argument("--principal", action="append", required=True, dest="principals",
                     metavar="ID", help="a principal of the policy; repeat for each")
    _policy_options(add)
    add.set_defaults(func=run_policy_add)
    change = _action(actions, parents, POLICIES, "set", "change a trust policy (only the "
                     "options given; --principal replaces the list)")
    change.add_argument("id")
    change.add_argument("--threshold", type=int, metavar="K")
    change.add_argument("--principal", action="append", dest="principals", metavar="ID")
    _policy_options(change)
    change.set_defaults(func=run_policy_set)


def _policy_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title", help="a human title (default: the id)")
    parser.add_argument("--predicate-type", action="append", dest="predicate_types",
                        metavar="URI", help="an accepted predicate type (repeatable; default: "
                        "the review/v1 predicate)")
    verdicts = parser.add_mutually_exclusive_group()
    verdicts.add_argument("--verdict", action="append", dest="verdicts", choices=VERDICTS,
                          help="an accepted verdict (repeatable; default: approved)")
    verdicts.add_argument("--any-verdict", action="store_true",
                          help="accept every verdict")


# --- requests -----------------------------------------------------------------------------


def _path(args: argparse.Namespace, item: str | None = None) -> str:
    collection = args.kind[2]
    base = f"/v0.1/x/{segment(args.namespace)}/{collection}"
    return f"{base}/{segment(item)}" if item is not None else base


def _write(args: argparse.Namespace, ctx: Context, method: str, body: dict[str, Any],
           action: str) -> dict[str, Any]:
    item = None if method == "POST" else args.id
    reply = ctx.send(method, _path(args, item), token=ctx.token(), json_body=body)
    if not reply.ok:
        raise failure(reply, action)
    if not isinstance(reply.body, dict):
        raise CliError("registry answered with something other than a JSON object")
    return reply.body


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {what} {path}: {exc}") from exc


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """GET the collection and print it as a table (or the registry's JSON)."""
    command, _, _, key = args.kind
    reply = ctx.send("GET", _path(args))
    if not reply.ok:
        raise failure(reply, f"listing {command}")
    data = reply.body if isinstance(reply.body, dict) else {}
    if ctx.json:
        output.emit_json(data)
        return 0
    items = [i for i in data.get(key) or [] if isinstance(i, dict)]
    if not items:
        output.say(f"No {command.replace('-', ' ')}.")
        return 0
    for line in _table(args.kind, items):
        output.say(line)
    return 0


def _table(kind: tuple[str, ...], items: list[dict[str, Any]]) -> list[str]:
    if kind == PRINCIPALS:
        lines = [f"{'ID':<24} {'KIND':<9} {'EXPIRES':<22} IDENTITY"]
        for p in items:
            ident = p.get("sigstore") or {}
            who = (f"keyid {p.get('keyid')}" if p.get("kind") == "key" else
                   f"{ident.get('issuer')} {ident.get('subject')}"
                   f"{' (pattern)' if ident.get('pattern') else ''} [{ident.get('trustRoot')}]")
            lines.append(f"{p.get('id')!s:<24} {p.get('kind')!s:<9} "
                         f"{p.get('expiresAt') or 'never'!s:<22} {who}")
        return lines
    if kind == TRUST_ROOTS:
        lines = [f"{'ID':<24} {'KIND':<11} {'ACTIVE':<7} {'PRINCIPALS':<30} NAME"]
        for r in items:
            lines.append(f"{r.get('id')!s:<24} {r.get('kind')!s:<11} "
                         f"{'yes' if r.get('active') else 'no':<7} "
                         f"{','.join(r.get('principals') or []) or '-':<30} {r.get('name')}")
        return lines
    lines = [f"{'ID':<24} {'K':>3}  {'PRINCIPALS':<40} TITLE"]
    for p in items:
        members = ",".join(str(m.get("id")) for m in p.get("principals") or [])
        lines.append(f"{p.get('id')!s:<24} {p.get('threshold')!s:>3}  {members or '-':<40} "
                     f"{p.get('title')}")
    return lines


def run_remove(args: argparse.Namespace, ctx: Context) -> int:
    """DELETE one principal, trust root or policy by id."""
    _, what, _, _ = args.kind
    reply = ctx.send("DELETE", _path(args, args.id), token=ctx.token())
    if not reply.ok:
        raise failure(reply, f"removing {what} {args.id}")
    if ctx.json:
        output.emit_json({"id": args.id, "removed": True})
    else:
        output.say(f"Removed {what} {args.id}.")
    return 0


# --- principals ---------------------------------------------------------------------------


def _public_key(path: Path) -> str:
    text = _read_text(path, "public key")
    if "PRIVATE KEY" in text:  # never send a private key anywhere
        raise CliError(f"{path} holds a private key; give its public half (the .pub file "
                       "`keygen --signing --out` wrote)", code=EXIT_USAGE)
    return text


def _principal_body(args: argparse.Namespace, *, creating: bool) -> dict[str, Any]:
    identity = {k: v for k, v in (("issuer", args.issuer), ("subject", args.subject),
                                  ("pattern", args.pattern), ("trustRoot", args.trust_root))
                if v is not None}
    if args.public_key and identity:
        raise CliError("a principal is a public key (--public-key) or a sigstore identity "
                       "(--issuer, --subject, --trust-root), not both", code=EXIT_USAGE)
    body: dict[str, Any] = {}
    if creating:
        if not args.public_key and not identity:
            raise CliError("give --public-key FILE, or --issuer, --subject and --trust-root",
                           code=EXIT_USAGE)
        body.update(id=args.id, kind="key" if args.public_key else "sigstore")
    if args.public_key:
        body["publicKey"] = _public_key(args.public_key)
    if identity:
        body["sigstore"] = identity
    if args.display_name is not None:
        body["displayName"] = args.display_name
    if args.expires_at is not None:
        body["expiresAt"] = args.expires_at
    return body


def _say_principal(ctx: Context, verb: str, data: dict[str, Any]) -> None:
    if ctx.json:
        output.emit_json(data)
        return
    if data.get("kind") == "key":
        detail = f"key, keyid {data.get('keyid')}"
    else:
        ident = data.get("sigstore") or {}
        detail = f"sigstore {ident.get('issuer')} {ident.get('subject')}"
    expiry = f"; expires {data['expiresAt']}" if data.get("expiresAt") else ""
    output.say(f"{verb} principal {data.get('id')} ({detail}{expiry}).")


def run_principal_add(args: argparse.Namespace, ctx: Context) -> int:
    """POST a new principal."""
    body = _principal_body(args, creating=True)
    data = _write(args, ctx, "POST", body, f"adding principal {args.id}")
    _say_principal(ctx, "Added", data)
    return 0


def run_principal_set(args: argparse.Namespace, ctx: Context) -> int:
    """PATCH the given fields of a principal."""
    body = _principal_body(args, creating=False)
    if args.no_expiry:
        if args.expires_at is not None:
            raise CliError("give --expires-at or --no-expiry, not both", code=EXIT_USAGE)
        body["expiresAt"] = None
    if not body:
        raise CliError("nothing to change: give at least one option", code=EXIT_USAGE)
    data = _write(args, ctx, "PATCH", body, f"changing principal {args.id}")
    _say_principal(ctx, "Changed", data)
    return 0


# --- trust roots --------------------------------------------------------------------------


def run_trust_root_add(args: argparse.Namespace, ctx: Context) -> int:
    """POST a new trust root (a trusted_root.json, or the embedded production root)."""
    body: dict[str, Any] = {"id": args.id, "active": not args.inactive}
    if args.production:
        body["kind"] = "production"
    else:
        text = _read_text(args.trusted_root, "trusted root")
        try:
            body.update(kind="custom", trustedRoot=json.loads(text))
        except ValueError as exc:
            raise CliError(f"{args.trusted_root} is not JSON: {exc}") from exc
    if args.name is not None:
        body["name"] = args.name
    data = _write(args, ctx, "POST", body, f"adding trust root {args.id}")
    if ctx.json:
        output.emit_json(data)
    else:
        state = "active" if data.get("active") else "inactive"
        output.say(f"Added trust root {data.get('id')} ({data.get('kind')}, {state}).")
    return 0


# --- policies -----------------------------------------------------------------------------


def _policy_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if args.title is not None:
        body["title"] = args.title
    if args.threshold is not None:
        body["threshold"] = args.threshold
    if args.principals is not None:
        body["principals"] = args.principals
    if args.predicate_types is not None:
        body["predicateTypes"] = args.predicate_types
    if args.any_verdict:
        body["verdicts"] = []
    elif args.verdicts is not None:
        body["verdicts"] = args.verdicts
    return body


def _say_policy(ctx: Context, verb: str, data: dict[str, Any]) -> None:
    if ctx.json:
        output.emit_json(data)
        return
    members = [str(p.get("id")) for p in data.get("principals") or [] if isinstance(p, dict)]
    output.say(f"{verb} policy {data.get('id')}: {data.get('threshold')} of "
               f"{len(members)} ({', '.join(members)}).")


def run_policy_add(args: argparse.Namespace, ctx: Context) -> int:
    """POST a new trust policy."""
    body = {"id": args.id, **_policy_body(args)}
    data = _write(args, ctx, "POST", body, f"adding policy {args.id}")
    _say_policy(ctx, "Added", data)
    return 0


def run_policy_set(args: argparse.Namespace, ctx: Context) -> int:
    """PATCH the given fields of a trust policy."""
    body = _policy_body(args)
    if not body:
        raise CliError("nothing to change: give at least one option", code=EXIT_USAGE)
    data = _write(args, ctx, "PATCH", body, f"changing policy {args.id}")
    _say_policy(ctx, "Changed", data)
    return 0
