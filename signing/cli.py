"""`mcp-index sign | attest | verify`: argparse wiring for signing/client.py (Django-free).

The CLI owner calls `add_subcommands(subparsers)`; each subcommand sets `func`, which
takes the parsed namespace and returns the process exit code.
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


def add_subcommands(subparsers: Any) -> None:
    """Register `sign`, `attest` and `verify` on an argparse subparsers object."""
    sign = subparsers.add_parser("sign", help="sign a statement about a server version")
    _common(sign)
    source = sign.add_mutually_exclusive_group()
    source.add_argument("--manifest", type=Path, help="local server.json to digest")
    source.add_argument("--sha256", help="canonical manifest digest, if already known")
    signer = sign.add_mutually_exclusive_group()
    signer.add_argument("--key", type=Path, help="PEM private key (Ed25519, P-256, P-384)")
    signer.add_argument(
        "--identity-token",
        help="OIDC token for keyless sigstore signing (or set SIGSTORE_ID_TOKEN)",
    )
    sign.add_argument("--verdict", choices=VERDICTS, default="approved")
    sign.add_argument("--notes", default="")
    sign.add_argument("--scope", action="append", default=[], help="repeatable scope label")
    sign.add_argument("--predicate-type", default=REVIEW_V1)
    sign.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    sign.set_defaults(func=cmd_sign)

    attest = subparsers.add_parser("attest", help="upload an attestation to the registry")
    _common(attest)
    attest.add_argument("file", type=Path, help="output of `mcp-index sign`")
    attest.set_defaults(func=cmd_attest)

    verify = subparsers.add_parser("verify", help="check a version against your own policy")
    _common(verify)
    verify.add_argument("--policy", type=Path, required=True, help="policy JSON file")
    verify.add_argument("--manifest", type=Path, help="trust this local server.json instead")
    verify.add_argument("--json", action="store_true", help="print a JSON report")
    verify.set_defaults(func=cmd_verify)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="server name, e.g. io.github.acme/db")
    parser.add_argument("version")
    parser.add_argument("--registry", default=os.environ.get("MCP_INDEX_REGISTRY", DEFAULT_REGISTRY))
    parser.add_argument("--token", default=os.environ.get("MCP_INDEX_TOKEN"))
    parser.add_argument("--namespace", default=os.environ.get("MCP_INDEX_NAMESPACE", "io.mcpindex"))


def _client(args: argparse.Namespace) -> RegistryClient:
    return RegistryClient(args.registry, token=args.token, namespace=args.namespace)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ClientError(f"cannot read {path}: {exc}") from exc


def cmd_sign(args: argparse.Namespace) -> int:
    """Sign a statement; print `{"kind", "content"}` ready for `mcp-index attest`."""
    try:
        if args.sha256:
            sha256 = args.sha256
        elif args.manifest:
            sha256 = manifest_digest(_read_json(args.manifest))
        else:
            sha256 = manifest_digest(_client(args).manifest(args.name, args.version))
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
            content = sign_with_key(statement=statement, key_path=args.key)
            out = {"kind": KIND_DSSE, "content": content}
        elif token:
            content = sign_with_sigstore(statement=statement, identity_token=token)
            out = {"kind": KIND_SIGSTORE, "content": content}
        else:
            raise ClientError("give --key, or --identity-token (or set SIGSTORE_ID_TOKEN)")
    except (ClientError, StatementError) as exc:
        return _fail(exc)
    text = json.dumps(out, indent=2) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def cmd_attest(args: argparse.Namespace) -> int:
    """Upload a signed attestation file."""
    try:
        data = _read_json(args.file)
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ClientError(f"{args.file} is not the output of `mcp-index sign`")
        record = _client(args).upload(args.name, args.version, kind=data["kind"], content=data["content"])
    except ClientError as exc:
        return _fail(exc)
    sys.stdout.write(f"uploaded attestation {record.get('id')} state={record.get('state')}\n")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 when the policy is satisfied by attestations verified here, else 1."""
    try:
        policy = policy_load(args.policy)
        manifest = _read_json(args.manifest) if args.manifest else None
        report = verify_version(
            _client(args), name=args.name, version=args.version, policy=policy, manifest=manifest
        )
    except ClientError as exc:
        return _fail(exc)
    if args.json:
        sys.stdout.write(json.dumps(report.as_json(), indent=2) + "\n")
    else:
        status = "OK" if report.result.satisfied else "NOT SATISFIED"
        sys.stdout.write(
            f"{status}: {args.name}@{args.version} sha256:{report.sha256} "
            f"{report.result.count}/{report.result.threshold} "
            f"signers={','.join(report.result.signers) or '-'}\n"
        )
    return 0 if report.result.satisfied else 1


def _fail(exc: Exception) -> int:
    sys.stderr.write(f"error: {exc}\n")
    return 2
