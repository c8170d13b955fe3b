"""`publish`, `validate` and `status`: sending manifests and lifecycle changes to a registry."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path
from typing import Any

from mcp_index_cli import output
from mcp_index_cli.context import Context
from mcp_index_cli.errors import EXIT_CONFLICT, EXIT_INVALID, EXIT_USAGE, CliError
from mcp_index_cli.http import failure, segment
from mcp_index_cli.manifest import encode_body, read_manifest, validate_local

OFFICIAL_META = "io.modelcontextprotocol.registry/official"
STATUSES = ("active", "deprecated", "deleted")


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the publish, validate and status parsers."""
    publish = sub.add_parser(
        "publish", parents=parents, help="validate and publish a server.json",
        description="Validate FILE locally, then publish it. On a 422 the registry's own "
        "validation issues are shown.")
    publish.add_argument("file", nargs="?", default="server.json", type=Path,
                         help="the manifest to publish (default: server.json)")
    publish.add_argument("--idempotency-key", metavar="KEY",
                         help="sent as Idempotency-Key (default: sha256 of the request body, "
                         "so a retried publish is safe)")
    publish.add_argument("--skip-local-validation", action="store_true",
                         help="send without validating locally first")
    publish.set_defaults(func=run_publish)

    validate = sub.add_parser(
        "validate", parents=parents, help="check a server.json without publishing it",
        description="Validate FILE locally with the registry's schema and semantic rules; "
        "with --remote, also ask the registry (POST /v0/validate).")
    validate.add_argument("file", nargs="?", default="server.json", type=Path,
                          help="the manifest to check (default: server.json)")
    validate.add_argument("--remote", action="store_true",
                          help="also validate on the registry")
    validate.set_defaults(func=run_validate)

    status = sub.add_parser(
        "status", parents=parents, help="deprecate, delete or restore a server version",
        description="Change the status of one version (NAME VERSION) or of every version "
        "(NAME --all-versions).")
    status.add_argument("--status", required=True, choices=STATUSES, help="the new status")
    status.add_argument("--message", help="why (shown to users; not allowed with active)")
    status.add_argument("--all-versions", action="store_true",
                        help="apply to every version of NAME")
    status.add_argument("name", help="server name, e.g. io.github.user/weather")
    status.add_argument("version", nargs="?", help="the version to change")
    status.set_defaults(func=run_status)


def _remote_validation(ctx: Context, body: bytes) -> dict[str, Any]:
    reply = ctx.send("POST", "/v0/validate", content=body)
    if not reply.ok or not isinstance(reply.body, dict):
        raise failure(reply, "remote validation")
    issues = reply.body.get("issues")
    return {"valid": bool(reply.body.get("valid")),
            "issues": [i for i in issues if isinstance(i, dict)] if isinstance(issues, list)
            else []}


def run_publish(args: argparse.Namespace, ctx: Context) -> int:
    """Validate locally, POST /v0/publish, and explain a refusal."""
    document = read_manifest(args.file)
    if not args.skip_local_validation:
        local = validate_local(document)
        if not local.valid:
            if ctx.json:
                output.emit_json(local.as_dict())
            else:
                output.print_issues(local.issues, to_stderr=True)
            raise CliError(f"{args.file} is not valid; nothing was published", code=EXIT_INVALID)
        if local.issues and not ctx.json:
            output.print_issues(local.issues, to_stderr=True)
    token = ctx.token()
    body = encode_body(document)
    key = args.idempotency_key or hashlib.sha256(body).hexdigest()
    reply = ctx.send("POST", "/v0/publish", token=token, content=body,
                 headers={"Idempotency-Key": key})
    if reply.status == 422:
        remote = _remote_validation(ctx, body)
        if ctx.json:
            output.emit_json(remote)
        else:
            output.print_issues(remote["issues"], to_stderr=True)
        error = failure(reply, "publish")
        raise CliError(error.message, code=EXIT_INVALID, details=error.details)
    if reply.status not in (200, 201):
        raise failure(reply, "publish", bad_request_code=EXIT_CONFLICT)
    data = reply.body if isinstance(reply.body, dict) else {}
    if ctx.json:
        output.emit_json(data)
        return 0
    server = data.get("server")
    if not isinstance(server, dict):
        server = document
    all_meta = data.get("_meta")
    meta = all_meta.get(OFFICIAL_META) if isinstance(all_meta, dict) else None
    if not isinstance(meta, dict):
        meta = {}
    facts = [str(meta.get("status", "active"))]
    if meta.get("isLatest"):
        facts.append("latest")
    output.say(f"Published {server.get('name')} {server.get('version')} to {ctx.registry()} "
               f"({', '.join(facts)}).")
    if reply.headers.get("idempotent-replayed") == "true":
        output.note("(an identical earlier publish had already succeeded; nothing changed)")
    return 0


def run_validate(args: argparse.Namespace, ctx: Context) -> int:
    """Validate locally and, with --remote, on the registry too; exit 3 when invalid."""
    document = read_manifest(args.file)
    local = validate_local(document)
    remote = _remote_validation(ctx, encode_body(document)) if args.remote else None
    valid = local.valid and (remote is None or remote["valid"])
    if ctx.json:
        result: dict[str, Any] = {"file": str(args.file), "valid": valid,
                                  "local": local.as_dict()}
        if remote is not None:
            result["remote"] = remote
        output.emit_json(result)
    else:
        output.say(f"Local: {'valid' if local.valid else 'invalid'}"
                   f"{'' if local.issues else ', no issues'}")
        output.print_issues(local.issues)
        if remote is not None:
            output.say(f"Registry {ctx.registry()}: "
                       f"{'valid' if remote['valid'] else 'invalid'}"
                       f"{'' if remote['issues'] else ', no issues'}")
            output.print_issues(remote["issues"])
    if not valid:
        raise CliError(f"{args.file} is not valid", code=EXIT_INVALID)
    return 0


def run_status(args: argparse.Namespace, ctx: Context) -> int:
    """PATCH the status of one version or of all versions of a server."""
    if args.all_versions and args.version:
        raise CliError("give VERSION or --all-versions, not both", code=EXIT_USAGE)
    if not args.all_versions and not args.version:
        raise CliError("give a VERSION, or --all-versions to change every version",
                       code=EXIT_USAGE)
    body: dict[str, Any] = {"status": args.status}
    if args.message is not None:
        body["statusMessage"] = args.message
    path = f"/v0/servers/{segment(args.name)}"
    if args.version:
        path += f"/versions/{segment(args.version)}"
    reply = ctx.send("PATCH", path + "/status", token=ctx.token(), json_body=body)
    if not reply.ok:
        raise failure(reply, "status change")
    data = reply.body if isinstance(reply.body, dict) else {}
    if ctx.json:
        output.emit_json(data)
    elif args.version:
        output.say(f"{args.name} {args.version} is now {args.status}.")
    else:
        count = data.get("updatedCount")
        counted = f"{count} version(s)" if isinstance(count, int) else "all versions"
        output.say(f"{args.name}: {counted} now {args.status}.")
    return 0
