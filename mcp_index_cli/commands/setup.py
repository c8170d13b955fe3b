"""`init` and `keygen`: preparing a server.json, a namespace-proof key or a signing key."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from mcp_index_cli import keys, output
from mcp_index_cli.context import Context
from mcp_index_cli.errors import EXIT_FAILURE, EXIT_USAGE, CliError
from mcp_index_cli.manifest import validate_local
from mcp_index_cli.project import draft_manifest

WELL_KNOWN_PATH = "/.well-known/mcp-registry-auth"


def register(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    """Add the init and keygen parsers."""
    init = sub.add_parser(
        "init", parents=parents, help="write a server.json for the current directory",
        description="Draft server.json from package.json (npm) or pyproject.toml (PyPI) "
        "and the git remote in the current directory.")
    init.add_argument("--name", help="server name, e.g. io.github.user/weather "
                      "(default: mcpName, else derived from the GitHub remote)")
    init.add_argument("--output", default="server.json", type=Path, metavar="FILE",
                      help="where to write (default: server.json)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(func=run_init)

    keygen = sub.add_parser(
        "keygen", parents=parents,
        help="generate a key for `login http` / `login dns`, or (--signing) for `sign --key`",
        description="Generate a login key and print the DNS TXT record and the "
        f"https://DOMAIN{WELL_KNOWN_PATH} line that publish its public half. With --signing, "
        "generate an attestation signing key instead: a PEM private key for `mcp-index sign "
        "--key`, its public key (PEM) and the keyid the registry computes for it.")
    keygen.add_argument("--signing", action="store_true",
                        help="make a PEM key for signing attestations, not a login key")
    keygen.add_argument("--algorithm", choices=keys.SIGNING_ALGORITHMS, default=keys.ED25519,
                        help="key type (default: ed25519; ecdsap256 only with --signing)")
    keygen.add_argument("--out", type=Path, metavar="FILE",
                        help="write the private key to FILE with mode 0600 instead of printing "
                        "it (hex; PEM with --signing, plus the public key in FILE.pub)")
    keygen.add_argument("--domain", help="your domain, to print the exact places to publish")
    keygen.set_defaults(func=run_keygen)


def run_init(args: argparse.Namespace, ctx: Context) -> int:
    """Write a drafted server.json, refusing to overwrite without --force."""
    target: Path = args.output
    if target.exists() and not args.force:
        raise CliError(f"{target} already exists; use --force to overwrite it",
                       code=EXIT_FAILURE)
    draft = draft_manifest(Path.cwd(), name=args.name)
    try:
        target.write_text(json.dumps(draft.manifest, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror}") from exc
    local = validate_local(draft.manifest)
    if ctx.json:
        output.emit_json({"file": str(target), "source": draft.source,
                          "server": draft.manifest, "notes": list(draft.notes),
                          "issues": list(local.issues)})
        return 0
    output.say(f"Wrote {target} for {draft.manifest['name']} {draft.manifest['version']} "
               f"(from {draft.source}).")
    for message in draft.notes:
        output.note(f"  - {message}")
    if local.issues:
        output.note("Validation issues to fix before publishing:")
        output.print_issues(local.issues, to_stderr=True)
    output.note("Next: `mcp-index login <method>` then `mcp-index publish`.")
    return 0


def _write_new(path: Path, text: str, mode: int = 0o600) -> None:
    """Create `path` with `mode`; never overwrite (a key file lost is a key lost)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError as exc:
        raise CliError(f"{path} already exists; not overwriting a key") from exc
    except OSError as exc:
        raise CliError(f"cannot create {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    os.chmod(path, mode)


def _write_private(path: Path, key_hex: str) -> None:
    _write_new(path, key_hex + "\n")


def run_keygen(args: argparse.Namespace, ctx: Context) -> int:
    """Generate a key; print (or save) the private half and the public key record."""
    if args.signing:
        return run_signing_keygen(args, ctx)
    if args.algorithm not in keys.ALGORITHMS:
        raise CliError(f"{args.algorithm} is only for signing keys (--signing); login keys "
                       f"are {' or '.join(keys.ALGORITHMS)}", code=EXIT_USAGE)
    key = keys.generate(args.algorithm)
    record = key.key_record()
    if args.out:
        _write_private(args.out, key.private_hex())
    domain = args.domain.strip().lower() if args.domain else None
    well_known = f"https://{domain or '<your-domain>'}{WELL_KNOWN_PATH}"
    login_key = (f"--private-key-file {args.out}" if args.out
                 else "--private-key <the hex above>")
    if ctx.json:
        result: dict[str, Any] = {"algorithm": key.algorithm, "public_key_record": record,
                                  "dns_txt_record": record, "well_known_url": well_known,
                                  "well_known_content": record}
        if args.out:
            result["private_key_file"] = str(args.out)
        else:
            result["private_key"] = key.private_hex()
        output.emit_json(result)
        return 0
    if args.out:
        output.say(f"Private key ({key.algorithm}) written to {args.out} (mode 0600). "
                   "Keep it secret.")
    else:
        output.say(f"Private key ({key.algorithm}, hex). Keep it secret:")
        output.say(key.private_hex())
    output.say()
    output.say(f"For `login dns`, add this TXT record at {domain or 'your domain apex'}:")
    output.say(record)
    output.say()
    output.say(f"For `login http`, serve this line at {well_known}:")
    output.say(record)
    output.say()
    output.say(f"Then: mcp-index login dns|http --domain {domain or '<your-domain>'} "
               f"{login_key}")
    return 0


def run_signing_keygen(args: argparse.Namespace, ctx: Context) -> int:
    """Generate an attestation key; save (or print) its PEM, print the public key and keyid."""
    if args.domain:
        raise CliError("--domain is for login keys; a signing key is registered as a "
                       "principal instead", code=EXIT_USAGE)
    key = keys.generate_attestation_key(args.algorithm)
    public_file = Path(f"{args.out}.pub") if args.out else None
    if public_file is not None:
        if public_file.exists():
            raise CliError(f"{public_file} already exists; not overwriting a key")
        _write_new(args.out, key.private_pem())
        _write_new(public_file, key.public_pem(), 0o644)
    if ctx.json:
        result: dict[str, Any] = {"purpose": "signing", "algorithm": key.algorithm,
                                  "keyid": key.keyid(), "public_key": key.public_pem()}
        if args.out:
            result.update(private_key_file=str(args.out), public_key_file=str(public_file))
        else:
            result["private_key"] = key.private_pem()
        output.emit_json(result)
        return 0
    if args.out:
        output.say(f"Signing key ({key.algorithm}) written to {args.out} (mode 0600). "
                   "Keep it secret.")
        output.say(f"Public key written to {public_file}:")
    else:
        output.say(f"Signing key ({key.algorithm}, PEM). Keep it secret:")
        output.say(key.private_pem().rstrip("\n"))
        output.say()
        output.say("Public key:")
    output.say(key.public_pem().rstrip("\n"))
    output.say(f"keyid: {key.keyid()}")
    output.say()
    output.say("Register it as a principal (an administrator token is needed):")
    output.say(f"  mcp-index principals add <id> --public-key {public_file or '<public key file>'}")
    output.say(f"Then sign: mcp-index sign NAME VERSION --key {args.out or '<private key file>'}")
    return 0
