"""`sign`, `attest` and `verify`: statements about a server version, signed and checked here.

Exit codes follow the CLI's table: 0 ok (for `verify`: the policy is satisfied), 1 failure,
3 the policy is not satisfied (or the registry found an upload invalid), 4 a token was
refused, 6 the registry is unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from mcp_index_cli import output
from mcp_index_cli.attestations import (
    SigningApi,
    policy_load,
    sign_with_key,
    sign_with_sigstore,
    verify_version,
)
from mcp_index_cli.config import DEFAULT_NAMESPACE, NAMESPACE_ENV
from mcp_index_cli.context import Context
from mcp_index_cli.errors import EXIT_INVALID, EXIT_OK, CliError
from mcp_index_common.statements import (
    REVIEW_V1,
    VERDICTS,
    StatementError,
    manifest_digest,
    statement_bytes_for,
)
from mcp_index_common.verification import KIND_DSSE, KIND_SIGSTORE, KINDS

SIGSTORE_TOKEN_ENV = "SIGSTORE_ID_TOKEN"
EXIT_NOT_SATISFIED = EXIT_INVALID


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the sign, attest and verify parsers."""
    sign = sub.add_parser(
        "sign",
        help="sign a statement about a server version",
        parents=parents,
        description="Sign an in-toto review statement about NAME@VERSION (its canonical "
        "manifest digest) with a local key, or keyless with sigstore.",
    )
    _positionals(sign)
    source = sign.add_mutually_exclusive_group()
    source.add_argument("--manifest", type=Path, help="local server.json to digest")
    source.add_argument("--sha256", help="canonical manifest digest, if already known")
    signer = sign.add_mutually_exclusive_group()
    signer.add_argument("--key", type=Path, help="PEM private key (Ed25519, P-256, P-384)")
    signer.add_argument(
        "--identity-token", help=f"OIDC token for keyless sigstore signing (or ${SIGSTORE_TOKEN_ENV})"
    )
    sign.add_argument("--verdict", choices=VERDICTS, default="approved")
    sign.add_argument("--notes", default="")
    sign.add_argument("--scope", action="append", default=[], help="repeatable scope label")
    sign.add_argument("--predicate-type", default=REVIEW_V1)
    sign.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    sign.set_defaults(func=run_sign)

    attest = sub.add_parser(
        "attest",
        help="upload an attestation to the registry",
        parents=parents,
        description="Upload the output of `mcp-index sign`; the registry verifies it.",
    )
    _positionals(attest)
    attest.add_argument("file", type=Path, help="output of `mcp-index sign`")
    attest.set_defaults(func=run_attest)

    verify = sub.add_parser(
        "verify",
        help="check a version against your own trust policy",
        parents=parents,
        description="Fetch NAME@VERSION and its attestations and decide locally, trusting "
        "only the principals and roots in --policy, never the registry's verdicts.",
    )
    _positionals(verify)
    verify.add_argument("--policy", type=Path, required=True, help="policy JSON file")
    verify.add_argument("--manifest", type=Path, help="trust this local server.json instead")
    verify.set_defaults(func=run_verify)


def _positionals(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="server name, e.g. io.github.acme/db")
    parser.add_argument("version")
    parser.add_argument("--namespace", default=os.environ.get(NAMESPACE_ENV, DEFAULT_NAMESPACE))


def _api(args: argparse.Namespace, ctx: Context) -> SigningApi:
    return SigningApi(ctx, namespace=args.namespace)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from exc


def run_sign(args: argparse.Namespace, ctx: Context) -> int:
    """Sign a statement; print `{"kind", "content"}` ready for `mcp-index attest`."""
    if args.sha256:
        sha256 = args.sha256
    elif args.manifest:
        sha256 = manifest_digest(_read_json(args.manifest))
    else:
        sha256 = manifest_digest(_api(args, ctx).manifest(args.name, args.version))
    try:
        statement = statement_bytes_for(
            server_name=args.name,
            version=args.version,
            sha256=sha256,
            verdict=args.verdict,
            notes=args.notes,
            scope=args.scope,
            predicate_type=args.predicate_type,
        )
    except StatementError as exc:
        raise CliError(str(exc)) from exc
    token = args.identity_token or os.environ.get(SIGSTORE_TOKEN_ENV)
    if args.key:
        out = {"kind": KIND_DSSE, "content": sign_with_key(statement=statement, key_path=args.key)}
    elif token:
        bundle = sign_with_sigstore(statement=statement, identity_token=token)
        out = {"kind": KIND_SIGSTORE, "content": bundle}
    else:
        raise CliError(f"give --key, or --identity-token (or set {SIGSTORE_TOKEN_ENV})")
    text = json.dumps(out, indent=2) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        output.say(text.rstrip("\n"))
    return EXIT_OK


def run_attest(args: argparse.Namespace, ctx: Context) -> int:
    """Upload a signed attestation file."""
    data = _read_json(args.file)
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise CliError(f"{args.file} is not the output of `mcp-index sign`")
    record = _api(args, ctx).upload(args.name, args.version, kind=data["kind"], content=data["content"])
    if ctx.json:
        output.say(json.dumps({k: v for k, v in record.items() if k != "content"}))
    else:
        output.say(f"uploaded attestation {record.get('id')} state={record.get('state')}")
    return EXIT_OK


def run_verify(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0 when the policy is satisfied by attestations verified here, else 3."""
    policy = policy_load(args.policy)
    manifest = _read_json(args.manifest) if args.manifest else None
    report = verify_version(
        _api(args, ctx), name=args.name, version=args.version, policy=policy, manifest=manifest
    )
    if ctx.json:
        output.emit_json(report.as_json())
    else:
        status = "OK" if report.result.satisfied else "NOT SATISFIED"
        output.say(
            f"{status}: {args.name}@{args.version} sha256:{report.sha256} "
            f"{report.result.count}/{report.result.threshold} "
            f"signers={','.join(report.result.signers) or '-'}"
        )
    return EXIT_OK if report.result.satisfied else EXIT_NOT_SATISFIED
