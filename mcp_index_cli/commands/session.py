"""`login`, `logout` and `whoami`: getting, storing and inspecting a registry token."""

from __future__ import annotations

import argparse
import getpass
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcp_index_cli import keys, output
from mcp_index_cli.config import Credential, forget_credential, save_credential
from mcp_index_cli.context import EXTENSION_PREFIX, Context
from mcp_index_cli.errors import EXIT_AUTH, EXIT_FAILURE, EXIT_USAGE, CliError
from mcp_index_cli.http import failure, send

METHODS = ("none", "http", "dns", "github-oidc", "oidc", "token")
PRIVATE_KEY_ENV = "MCP_INDEX_PRIVATE_KEY"
OIDC_TOKEN_ENV = "MCP_INDEX_OIDC_TOKEN"
ACTIONS_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
ACTIONS_TOKEN_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
# Only catch obvious mistakes (a URL instead of a domain); the registry judges the rest.
_NOT_A_DOMAIN = re.compile(r"[/\s@?#]|^$")


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the login, logout and whoami parsers."""
    login = sub.add_parser(
        "login", parents=parents, help="exchange a proof of namespace ownership for a token",
        description="Log in to a registry and store the token for it. Methods: none "
        "(anonymous, dev registries), http / dns (a signed timestamp checked against "
        "https://DOMAIN/.well-known/mcp-registry-auth or a DNS TXT record), github-oidc "
        "(GitHub Actions), oidc (any configured OIDC provider), token (store an API token "
        "from `mcp-index tokens create`).")
    login.add_argument("method", choices=METHODS, help="how to prove who you are")
    login.add_argument("--domain", help="http/dns: the domain whose key signs the proof")
    login.add_argument("--private-key", metavar="HEX",
                       help=f"http/dns: the private key as hex (or set ${PRIVATE_KEY_ENV})")
    login.add_argument("--private-key-file", metavar="FILE", type=Path,
                       help="http/dns: a file holding the key (hex from `keygen --out`, or PEM)")
    login.add_argument("--algorithm", choices=keys.ALGORITHMS,
                       help="http/dns: key algorithm (default: inferred from the key length)")
    login.add_argument("--token", help="github-oidc/oidc: the OIDC ID token; token: the API "
                       "token (read from stdin when omitted)")
    login.add_argument("--audience", help="github-oidc: audience to request from GitHub "
                       "Actions (default: the registry's scheme://host)")
    login.set_defaults(func=run_login)

    logout = sub.add_parser("logout", parents=parents, help="forget the stored token",
                            description="Remove the stored token for the registry.")
    logout.set_defaults(func=run_logout)

    whoami = sub.add_parser("whoami", parents=parents, help="show who the stored token is for",
                            description="Show the identity and permissions of the token.")
    whoami.set_defaults(func=run_whoami)


def rfc3339_now() -> str:
    """The current UTC time as RFC 3339 with milliseconds (`2025-01-02T03:04:05.678Z`).

    The registry refuses a (domain, timestamp) it has seen as a replay, so whole seconds
    would let only one of several jobs sharing a key log in per second. RFC 3339 parsers
    (ours, and the official registry's Go time.Parse) accept the fraction.
    """
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _signing_key(args: argparse.Namespace) -> keys.SigningKey:
    if args.private_key and args.private_key_file:
        raise CliError("give --private-key or --private-key-file, not both", code=EXIT_USAGE)
    if args.private_key_file:
        return keys.from_file(args.private_key_file, args.algorithm)
    value = args.private_key or os.environ.get(PRIVATE_KEY_ENV, "")
    if not value.strip():
        raise CliError(f"login {args.method} needs --private-key, --private-key-file or "
                       f"${PRIVATE_KEY_ENV}", code=EXIT_USAGE)
    return keys.from_hex(value, args.algorithm)


def _domain(args: argparse.Namespace) -> str:
    if not args.domain:
        raise CliError(f"login {args.method} needs --domain", code=EXIT_USAGE)
    domain = str(args.domain).strip().lower().rstrip(".")
    if _NOT_A_DOMAIN.search(domain):
        raise CliError(f"--domain takes a bare domain such as example.com, got {args.domain!r}",
                       code=EXIT_USAGE)
    return domain


def _actions_oidc_token(audience: str, ctx: Context) -> str:
    url = os.environ.get(ACTIONS_URL_ENV, "")
    request_token = os.environ.get(ACTIONS_TOKEN_ENV, "")
    if not url or not request_token:
        raise CliError(
            "no GitHub Actions OIDC token available: pass --token, or run in GitHub Actions "
            "with `permissions: id-token: write`", code=EXIT_USAGE)
    reply = send("GET", url, token=request_token, params={"audience": audience},
                 transport=ctx.transport)
    value = reply.body.get("value") if isinstance(reply.body, dict) else None
    if not reply.ok or not isinstance(value, str):
        raise CliError(f"GitHub Actions refused an OIDC token (HTTP {reply.status})",
                       code=EXIT_AUTH)
    return value


def _proof(args: argparse.Namespace, ctx: Context) -> dict[str, Any] | None:
    """The JSON body for the auth endpoint of `args.method` (None: no body)."""
    if args.method == "none":
        return None
    if args.method in ("http", "dns"):
        domain = _domain(args)
        key = _signing_key(args)
        timestamp = rfc3339_now()
        signature = key.sign(timestamp.encode("utf-8"))
        return {"domain": domain, "timestamp": timestamp, "signed_timestamp": signature.hex()}
    if args.method == "github-oidc":
        parts = urlsplit(ctx.registry())
        token = args.token or _actions_oidc_token(args.audience or
                                                  f"{parts.scheme}://{parts.netloc}", ctx)
        return {"oidc_token": token}
    token = args.token or os.environ.get(OIDC_TOKEN_ENV, "").strip()
    if not token:
        raise CliError(f"login oidc needs --token or ${OIDC_TOKEN_ENV}", code=EXIT_USAGE)
    return {"oidc_token": token}


def _api_token(args: argparse.Namespace) -> str:
    if args.token:
        return str(args.token).strip()
    if sys.stdin is not None and sys.stdin.isatty():
        value = getpass.getpass("API token: ")
    else:
        value = sys.stdin.read() if sys.stdin is not None else ""
    if not value.strip():
        raise CliError("login token needs --token or the token on stdin", code=EXIT_USAGE)
    return value.strip()


def _format_expiry(expires_at: int | None) -> str:
    if expires_at is None:
        return "no expiry"
    return time.strftime("valid until %Y-%m-%d %H:%M:%S UTC", time.gmtime(expires_at))


def run_login(args: argparse.Namespace, ctx: Context) -> int:
    """Prove identity to the registry (or take an API token) and store the token."""
    registry = ctx.registry()
    if args.method == "token":
        credential = Credential(token=_api_token(args), method="token", expires_at=None)
    else:
        body = _proof(args, ctx)
        reply = ctx.send("POST", f"/v0/auth/{args.method}", json_body=body)
        if not reply.ok:
            error = failure(reply, f"login {args.method}", relogin_hint=False)
            code = EXIT_AUTH if reply.status in (400, 401, 403) else error.code
            raise CliError(error.message, code=code, details=error.details)
        data = reply.body if isinstance(reply.body, dict) else {}
        token, expires = data.get("registry_token"), data.get("expires_at")
        if not isinstance(token, str) or not token:
            raise CliError(f"{registry} answered without a registry_token", code=EXIT_FAILURE)
        credential = Credential(token=token, method=args.method,
                                expires_at=int(expires) if isinstance(expires, int | float)
                                else None)
    path = save_credential(registry, credential)
    if ctx.json:
        output.emit_json({"registry": registry, "method": credential.method,
                          "expires_at": credential.expires_at, "credentials_file": str(path)})
    else:
        output.say(f"Logged in to {registry} with {credential.method} "
                   f"({_format_expiry(credential.expires_at)}).")
        output.note(f"Token stored in {path}")
    return 0


def run_logout(args: argparse.Namespace, ctx: Context) -> int:
    """Forget the token stored for the registry."""
    registry = ctx.registry()
    removed = forget_credential(registry)
    if ctx.json:
        output.emit_json({"registry": registry, "logged_out": removed})
    else:
        output.say(f"Logged out of {registry}." if removed
                   else f"No token was stored for {registry}.")
    return 0


def run_whoami(args: argparse.Namespace, ctx: Context) -> int:
    """Ask the registry whose token this is and what it may do."""
    reply = ctx.send("GET", f"{EXTENSION_PREFIX}/whoami", token=ctx.token())
    if not reply.ok:
        raise failure(reply, "whoami")
    data = reply.body if isinstance(reply.body, dict) else {}
    if ctx.json:
        output.emit_json(data)
        return 0
    output.say(f"Registry:    {ctx.registry()}")
    output.say(f"Subject:     {data.get('subject', '?')}")
    output.say(f"Auth method: {data.get('auth_method', '?')}")
    expires = data.get("expires_at")
    if isinstance(expires, int | float):
        output.say(f"Expires:     {_format_expiry(int(expires)).removeprefix('valid until ')}")
    elif isinstance(expires, str) and expires:
        output.say(f"Expires:     {expires}")
    permissions = data.get("permissions") or []
    output.say("Permissions:" if permissions else "Permissions: none")
    for permission in permissions:
        if isinstance(permission, dict):
            output.say(f"  {permission.get('action', '?'):<8} {permission.get('resource', '?')}")
    return 0
