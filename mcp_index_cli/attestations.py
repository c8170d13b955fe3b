"""Client side of signing: sign statements, fetch and upload attestations, verify locally.

Everything goes through the CLI's one HTTP client (`Context.send`) and fails with CliError.
`verify` trusts nothing the registry says: it recomputes the manifest digest itself,
re-verifies every attestation against the principals and trust roots in the user's own
policy file, and applies the threshold.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sigstore.dsse import Statement as SigstoreStatement
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier

from mcp_index_cli.config import DEFAULT_NAMESPACE
from mcp_index_cli.context import Context
from mcp_index_cli.errors import CliError
from mcp_index_cli.http import Reply, failure, segment
from mcp_index_common import dsse
from mcp_index_common.policy import PolicyResult, PolicySpec, policy_check
from mcp_index_common.sigstore_verify import (
    SigstoreIdentity,
    TrustRootError,
    production_verifier,
    verifier_for,
)
from mcp_index_common.statements import REVIEW_V1, VERDICT_APPROVED, manifest_digest
from mcp_index_common.verification import (
    KIND_DSSE,
    KIND_SIGSTORE,
    VERIFIED,
    AttestationCheck,
    KeyPrincipal,
    SigstorePrincipal,
    Trust,
    attestation_check,
)

PRODUCTION_ROOT = "production"


@dataclass(frozen=True)
class LocalPolicy:
    """A policy read from the user's own file: what `mcp-index verify` trusts."""

    spec: PolicySpec
    trust: Trust


@dataclass(frozen=True)
class VerifyReport:
    """What `mcp-index verify` found: the local digest, each check, and the decision."""

    server_name: str
    version: str
    sha256: str
    checks: tuple[AttestationCheck, ...]
    result: PolicyResult

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.server_name,
            "version": self.version,
            "sha256": self.sha256,
            "satisfied": self.result.satisfied,
            "threshold": self.result.threshold,
            "signers": list(self.result.signers),
            "ignored": [{"principal": p, "reason": r} for p, r in self.result.ignored],
            "attestations": [
                {"state": c.state, "principals": list(c.principals), "reason": c.reason} for c in self.checks
            ],
        }


# --- signing ----------------------------------------------------------------------------


def sign_with_key(*, statement: bytes, key_path: Path, password: bytes | None = None) -> dict:
    """A DSSE envelope over `statement`, signed with a local PEM private key."""
    try:
        pem = key_path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read key {key_path}: {exc}") from exc
    try:
        key = dsse.private_key_load(pem, password)
    except dsse.KeyLoadError as exc:
        raise CliError(str(exc)) from exc
    return dsse.envelope_sign(payload=statement, keys=[key]).as_json()


def sign_with_sigstore(*, statement: bytes, identity_token: str) -> dict:
    """A public-good sigstore bundle over `statement` (needs network and an OIDC token)."""
    context = SigningContext.from_trust_config(ClientTrustConfig.production())
    with context.signer(IdentityToken(identity_token), cache=False) as signer:
        bundle = signer.sign_dsse(SigstoreStatement(statement))
    return json.loads(bundle.to_json())


# --- talking to a registry --------------------------------------------------------------


@dataclass(frozen=True)
class SigningApi:
    """The registry's version reads and our signing endpoints, over the context's client."""

    ctx: Context
    namespace: str = DEFAULT_NAMESPACE

    def _version_path(self, name: str, version: str) -> str:
        return f"servers/{segment(name)}/versions/{segment(version)}"

    def _json(self, reply: Reply, action: str) -> Any:
        if not reply.ok:
            raise failure(reply, action)
        if reply.body is None:
            raise CliError("registry answered with something other than JSON")
        return reply.body

    def manifest(self, name: str, version: str) -> dict[str, Any]:
        """The server.json of one version, as the registry serves it."""
        reply = self.ctx.send("GET", f"/v0.1/{self._version_path(name, version)}")
        data = self._json(reply, "fetching the manifest")
        server = data.get("server") if isinstance(data, dict) else None
        if not isinstance(server, dict):
            raise CliError("registry response has no server object")
        return server

    def policy(self, slug: str) -> dict[str, Any]:
        """A trust policy as the registry publishes it (save it, review it, then trust it)."""
        reply = self.ctx.send("GET", f"/v0.1/x/{self.namespace}/policies/{segment(slug)}")
        data = self._json(reply, "fetching the policy")
        if not isinstance(data, dict):
            raise CliError("registry response is not a policy object")
        return data

    def attestations(self, name: str, version: str) -> list[dict[str, Any]]:
        """Every attestation stored for a version, with its raw content."""
        path = f"/v0.1/x/{self.namespace}/{self._version_path(name, version)}/attestations"
        data = self._json(self.ctx.send("GET", path), "fetching attestations")
        items = data.get("attestations") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise CliError("registry response has no attestations list")
        return items

    def upload(self, name: str, version: str, *, kind: str, content: dict) -> dict[str, Any]:
        """Submit one attestation (signed in when logged in); returns the registry's record."""
        path = f"/v0.1/x/{self.namespace}/{self._version_path(name, version)}/attestations"
        reply = self.ctx.send("POST", path, token=self.ctx.token_if_any(),
                              json_body={"kind": kind, "content": content})
        data = self._json(reply, "attestation upload")
        if not isinstance(data, dict):
            raise CliError("registry response is not an attestation record")
        return data


# --- verifying locally ------------------------------------------------------------------


def policy_load(path: Path) -> LocalPolicy:
    """Read a policy file (JSON; format in docs/signing.md); paths are relative to it."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read policy {path}: {exc}") from exc
    return policy_from_json(data, base_dir=path.parent)


def policy_from_json(data: Any, *, base_dir: Path) -> LocalPolicy:
    """Build a LocalPolicy from its JSON form."""
    if not isinstance(data, dict) or not isinstance(data.get("principals"), list):
        raise CliError("policy must be an object with a principals list")
    verifiers: dict[str, Verifier] = {}
    for root_name, source in (data.get("trustRoots") or {}).items():
        verifiers[root_name] = _verifier_from(source, base_dir)
    keys: list[KeyPrincipal] = []
    identities: list[SigstorePrincipal] = []
    principals: dict[str, datetime | None] = {}
    try:
        for item in data["principals"]:
            pid = str(item["id"])
            principals[pid] = _parse_time(item.get("expiresAt"))
            if "sigstore" in item:
                ident = item["sigstore"]
                root = ident.get("trustRoot", PRODUCTION_ROOT)
                if root == PRODUCTION_ROOT and root not in verifiers:
                    verifiers[root] = production_verifier()
                if root not in verifiers:
                    raise CliError(f"principal {pid}: unknown trust root {root!r}")
                identity = SigstoreIdentity(
                    issuer=ident["issuer"],
                    subject=ident["subject"],
                    pattern=bool(ident.get("pattern", False)),
                )
                identities.append(SigstorePrincipal(id=pid, root=root, identity=identity))
            else:
                pem = item.get("publicKey") or (base_dir / item["publicKeyFile"]).read_text()
                keys.append(KeyPrincipal(id=pid, key=dsse.public_key_load(pem)))
        spec = PolicySpec(
            threshold=int(data.get("threshold", 1)),
            principals=principals,
            predicate_types=frozenset(data.get("predicateTypes") or [REVIEW_V1]),
            verdicts=frozenset(data.get("verdicts", [VERDICT_APPROVED])),
        )
    except (KeyError, TypeError, ValueError, OSError) as exc:
        raise CliError(f"invalid policy: {exc}") from exc
    return LocalPolicy(spec=spec, trust=Trust(keys=keys, verifiers=verifiers, identities=identities))


def verify_version(
    api: SigningApi,
    *,
    name: str,
    version: str,
    policy: LocalPolicy,
    manifest: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> VerifyReport:
    """Fetch a version's attestations and decide locally whether `policy` is satisfied."""
    server = dict(manifest) if manifest is not None else api.manifest(name, version)
    if server.get("name") != name or server.get("version") != version:
        raise CliError("manifest is not for the requested name and version")
    sha256 = manifest_digest(server)
    checks = []
    for item in api.attestations(name, version):
        kind = item.get("kind")
        content = item.get("content")
        if kind not in (KIND_DSSE, KIND_SIGSTORE) or not isinstance(content, dict):
            continue
        checks.append(
            attestation_check(
                kind=kind,
                content=json.dumps(content).encode(),
                server_name=name,
                version=version,
                sha256=sha256,
                trust=policy.trust,
            )
        )
    evidence = [e for check in checks if check.state == VERIFIED for e in check.evidence()]
    result = policy_check(
        policy.spec,
        evidence,
        server_name=name,
        version=version,
        sha256=sha256,
        now=now or datetime.now(UTC),
    )
    return VerifyReport(server_name=name, version=version, sha256=sha256, checks=tuple(checks), result=result)


def _verifier_from(source: Any, base_dir: Path) -> Verifier:
    if source == PRODUCTION_ROOT:
        return production_verifier()
    try:
        raw = json.dumps(source) if isinstance(source, dict) else (base_dir / source).read_text()
        return verifier_for(raw)
    except (OSError, TypeError, TrustRootError) as exc:
        raise CliError(f"cannot load trust root: {exc}") from exc


def _parse_time(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
