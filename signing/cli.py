"""`mcp-index sign | attest | verify`: argparse wiring for signing/client.py (Django-free).

Wiring into registry/cli/main.py is one line beside the other `register` calls:
`signing.cli.add_subcommands(sub, parents)`. With `parents` (which carry the global
`--registry`/`--json`), handlers are called as `func(args, ctx)` and use `ctx.registry()`;
without, the sub-commands add those options themselves and `func(args)` works alone.

Exit codes follow the CLI's table: 0 ok (policy satisfied), 1 failure, 3 the policy is
not satisfied, 6 the registry is unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from signing.client import (
    ClientError,
    RegistryClient,
    policy_load,
    sign_with_key,
    sign_with_sigstore,
    statement_bytes_for,
    verify_version,
)
from signing.statements import REVIEW_V1, VERDICTS, StatementError, manifest_digest
from signing.verification import KIND_DSSE, KIND_SIGSTORE, KINDS

DEFAULT_REGISTRY = "http://127.0.0.1:8000"
REGISTRY_ENV = "MCP_INDEX_REGISTRY"
TOKEN_ENV = "MCP_INDEX_TOKEN"
EXIT_OK, EXIT_FAILURE, EXIT_NOT_SATISFIED, EXIT_NETWORK = 0, 1, 3, 6


def add_subcommands(subparsers: Any, parents: list[argparse.ArgumentParser] | None = None) -> None:
    """Register `sign`, `attest` and `verify` on an argparse subparsers object."""
    own_globals = parents is None
    kwargs: dict[str, Any] = {"parents": parents} if parents else {}

    sign = subparsers.add_parser(
        "sign",
        help="sign a statement about a server version",
        **kwargs,
        description="Sign an in-toto review statement about NAME@VERSION (its canonical "
        "manifest digest) with a local key, or keyless with sigstore.",
    )
    _positionals(sign, own_globals)
    source = sign.add_mutually_exclusive_group()
    source.add_argument("--manifest", type=Path, help="local server.json to digest")
    source.add_argument("--sha256", help="canonical manifest digest, if already known")
    signer = sign.add_mutually_exclusive_group()
    signer.add_argument("--key", type=Path, help="PEM private key (Ed25519, P-256, P-384)")
    signer.add_argument(
        "--identity-token", help="OIDC token for keyless sigstore signing (or $SIGSTORE_ID_TOKEN)"
    )
    sign.add_argument("--verdict", choices=VERDICTS, default="approved")
    sign.add_argument("--notes", default="")
    sign.add_argument("--scope", action="append", default=[], help="repeatable scope label")
    sign.add_argument("--predicate-type", default=REVIEW_V1)
    sign.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    sign.set_defaults(func=cmd_sign)

    attest = subparsers.add_parser(
        "attest",
        help="upload an attestation to the registry",
        **kwargs,
        description="Upload the output of `mcp-index sign`; the registry verifies it.",
    )
    _positionals(attest, own_globals)
    attest.add_argument("file", type=Path, help="output of `mcp-index sign`")
    attest.set_defaults(func=cmd_attest)

    verify = subparsers.add_parser(
        "verify",
        help="check a version against your own trust policy",
        **kwargs,
        description="Fetch NAME@VERSION and its attestations and decide locally, trusting "
        "only the principals and roots in --policy, never the registry's verdicts.",
    )
    _positionals(verify, own_globals)
    verify.add_argument("--policy", type=Path, required=True, help="policy JSON file")
    verify.add_argument("--manifest", type=Path, help="trust this local server.json instead")
    verify.set_defaults(func=cmd_verify)


def _positionals(parser: argparse.ArgumentParser, own_globals: bool) -> None:
    parser.add_argument("name", help="server name, e.g. io.github.acme/db")
    parser.add_argument("version")
    if own_globals:
        parser.add_argument("--registry", default=None, help=f"registry URL (${REGISTRY_ENV})")
        parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--namespace", default=os.environ.get("MCP_INDEX_NAMESPACE", "io.mcpindex"))


def _registry_url(args: argparse.Namespace, ctx: Any) -> str:
    if ctx is not None:
        return str(ctx.registry())
    return args.registry or os.environ.get(REGISTRY_ENV) or DEFAULT_REGISTRY


def _token(ctx: Any) -> str | None:
    """A token when one is at hand; attestations may also be submitted anonymously."""
    if os.environ.get(TOKEN_ENV):
        return os.environ[TOKEN_ENV]
    if ctx is None:
        return None
    try:
        return str(ctx.token())
    except Exception:  # not logged in: submit anonymously (the registry rate-limits that)
        return None


def _client(args: argparse.Namespace, ctx: Any = None, *, auth: bool = False) -> RegistryClient:
    return RegistryClient(
        _registry_url(args, ctx), token=_token(ctx) if auth else None, namespace=args.namespace
    )


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read {path}: {exc}") from exc


def cmd_sign(args: argparse.Namespace, ctx: Any = None) -> int:
    """Sign a statement; print `{"kind", "content"}` ready for `mcp-index attest`."""
    try:
        if args.sha256:
            sha256 = args.sha256
        elif args.manifest:
            sha256 = manifest_digest(_read_json(args.manifest))
        else:
            sha256 = manifest_digest(_client(args, ctx).manifest(args.name, args.version))
        statement = statement_bytes_for(
            server_name=args.name,
            version=args.version,
            sha256=sha256,
            verdict=args.verdict,
            notes=args.notes,
            scope=args.scope,
            predicate_type=args.predicate_type,
        )
        token = args.identity_token or os.environ.get("SIGSTORE_ID_TOKEN")
        if args.key:
            out = {"kind": KIND_DSSE, "content": sign_with_key(statement=statement, key_path=args.key)}
        elif token:
            out = {
                "kind": KIND_SIGSTORE,
                "content": sign_with_sigstore(statement=statement, identity_token=token),
            }
        else:
            raise ClientError("give --key, or --identity-token (or set SIGSTORE_ID_TOKEN)")
    except (ClientError, StatementError) as exc:
        return _fail(exc)
    text = json.dumps(out, indent=2) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_attest(args: argparse.Namespace, ctx: Any = None) -> int:
    """Upload a signed attestation file."""
    try:
        data = _read_json(args.file)
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ClientError(f"{args.file} is not the output of `mcp-index sign`")
        record = _client(args, ctx, auth=True).upload(
            args.name, args.version, kind=data["kind"], content=data["content"]
        )
    except ClientError as exc:
        return _fail(exc)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps({k: v for k, v in record.items() if k != "content"}) + "\n")
    else:
        sys.stdout.write(f"uploaded attestation {record.get('id')} state={record.get('state')}\n")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, ctx: Any = None) -> int:
    """Exit 0 when the policy is satisfied by attestations verified here, else 3."""
    try:
        policy = policy_load(args.policy)
        manifest = _read_json(args.manifest) if args.manifest else None
        report = verify_version(
            _client(args, ctx), name=args.name, version=args.version, policy=policy, manifest=manifest
        )
    except ClientError as exc:
        return _fail(exc)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        status = "OK" if report.result.satisfied else "NOT SATISFIED"
        sys.stdout.write(
            f"{status}: {args.name}@{args.version} sha256:{report.sha256} "
            f"{report.result.count}/{report.result.threshold} "
            f"signers={','.join(report.result.signers) or '-'}\n"
        )
    return EXIT_OK if report.result.satisfied else EXIT_NOT_SATISFIED


def _fail(exc: Exception) -> int:
    sys.stderr.write(f"error: {exc}\n")
    return EXIT_NETWORK if getattr(exc, "network", False) else EXIT_FAILURE
