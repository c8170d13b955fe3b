"""`tokens create|list|revoke`: long-lived API tokens for CI, scoped to name patterns."""

from __future__ import annotations

import argparse
from typing import Any

from mcp_index_cli import output
from mcp_index_cli.context import EXTENSION_PREFIX, Context
from mcp_index_cli.errors import EXIT_USAGE, CliError
from mcp_index_cli.http import failure, segment

TOKENS_PATH = f"{EXTENSION_PREFIX}/tokens"


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add `tokens` and its create, list and revoke sub-commands."""
    tokens = sub.add_parser("tokens", parents=parents, help="manage API tokens",
                            description="Create, list and revoke long-lived API tokens. Use "
                            "one in CI with `mcp-index login token`.")
    actions = tokens.add_subparsers(dest="tokens_action", metavar="ACTION", required=True)

    create = actions.add_parser("create", parents=parents, help="create a token (shown once)",
                                description="Create an API token that may publish to the "
                                "given name patterns. The token is shown only once.")
    create.add_argument("--name", required=True, help="a label, e.g. 'github-actions'")
    create.add_argument("--pattern", required=True, action="append", dest="patterns",
                        metavar="PATTERN", help="a server-name pattern such as "
                        "'io.github.acme/*'; repeat for several")
    create.add_argument("--expires-in-days", type=int, metavar="DAYS",
                        help="lifetime in days (default: the registry's)")
    create.set_defaults(func=run_create)

    listing = actions.add_parser("list", parents=parents, help="list your tokens",
                                 description="List API tokens (their secrets are not shown).")
    listing.set_defaults(func=run_list)

    revoke = actions.add_parser("revoke", parents=parents, help="revoke a token",
                                description="Revoke the API token with this id.")
    revoke.add_argument("id", help="the token id from `tokens list`")
    revoke.set_defaults(func=run_revoke)


def run_create(args: argparse.Namespace, ctx: Context) -> int:
    """POST a new token and print its secret once."""
    if args.expires_in_days is not None and args.expires_in_days < 1:
        raise CliError("--expires-in-days must be at least 1", code=EXIT_USAGE)
    body: dict[str, Any] = {"name": args.name, "patterns": args.patterns}
    if args.expires_in_days is not None:
        body["expires_in_days"] = args.expires_in_days
    reply = ctx.send("POST", TOKENS_PATH, token=ctx.token(), json_body=body)
    if not reply.ok:
        raise failure(reply, "token creation")
    data = reply.body if isinstance(reply.body, dict) else {}
    if ctx.json:
        output.emit_json(data)
        return 0
    output.say(f"Created token {data.get('id')} ({data.get('name')}) for "
               f"{', '.join(data.get('patterns') or args.patterns)}; "
               f"expires {data.get('expires_at') or 'never'}.")
    output.say("Copy it now, it is not shown again:")
    output.say(str(data.get("token")))
    return 0


def run_list(args: argparse.Namespace, ctx: Context) -> int:
    """GET the caller's tokens as a table."""
    reply = ctx.send("GET", TOKENS_PATH, token=ctx.token())
    if not reply.ok:
        raise failure(reply, "listing tokens")
    data = reply.body if isinstance(reply.body, dict) else {}
    if ctx.json:
        output.emit_json(data)
        return 0
    tokens = [t for t in data.get("tokens") or [] if isinstance(t, dict)]
    if not tokens:
        output.say("No API tokens.")
        return 0
    output.say(f"{'ID':<38} {'NAME':<20} {'EXPIRES':<26} {'LAST USED':<26} PATTERNS")
    for token in tokens:
        output.say(f"{token.get('id')!s:<38} {token.get('name')!s:<20} "
                   f"{token.get('expires_at') or 'never'!s:<26} "
                   f"{token.get('last_used_at') or 'never'!s:<26} "
                   f"{', '.join(token.get('patterns') or [])}")
    return 0


def run_revoke(args: argparse.Namespace, ctx: Context) -> int:
    """DELETE one token by id."""
    reply = ctx.send("DELETE", f"{TOKENS_PATH}/{segment(args.id)}", token=ctx.token())
    if not reply.ok:
        raise failure(reply, "token revocation")
    if ctx.json:
        output.emit_json({"id": args.id, "revoked": True})
    else:
        output.say(f"Revoked token {args.id}.")
    return 0
