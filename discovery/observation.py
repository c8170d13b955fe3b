"""Observation as evidence: the registry signs what it saw ("observed tool-set digest D for
this version's digest at time T") with its own key, registered as a principal, so a trust
policy can require "observed by the registry" next to human reviewers."""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ed25519
from django.conf import settings

from mcp_index_common import dsse
from mcp_index_common.statements import OBSERVATION_V1, VERDICT_OBSERVED, statement_build
from mcp_index_common.verification import KIND_DSSE
from registry.errors import RegistryError
from signing.models import Attestation, Principal
from signing.services import attestation_submit, attestation_verify, principal_save

if TYPE_CHECKING:
    from discovery.models import Inventory, Probe

log = logging.getLogger(__name__)
OBSERVER_ACTOR = "system:observer"


@lru_cache(maxsize=2)
def _key(seed_hex: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed_hex))


def observer_key() -> ed25519.Ed25519PrivateKey | None:
    """The registry's observation key (MCP_INDEX_OBSERVER_KEY, a 32-byte hex seed), if set."""
    seed = settings.MCP_INDEX_OBSERVER_KEY
    return _key(seed) if seed else None


def observer_principal_ensure() -> Principal | None:
    """The principal of the registry's key, created (or re-keyed) on first use, audited."""
    key = observer_key()
    if key is None:
        return None
    pem = dsse.public_key_pem(key.public_key())
    slug = settings.MCP_INDEX_OBSERVER_PRINCIPAL
    principal = Principal.objects.filter(slug=slug).first()
    if principal is not None and principal.kind == Principal.KEY and principal.public_key_pem == pem:
        return principal
    principal = principal or Principal(slug=slug, display_name="this registry's observations")
    principal.kind, principal.public_key_pem = Principal.KEY, pem
    return principal_save(principal=principal, actor=OBSERVER_ACTOR)


def observation_sign(*, inventory: Inventory, probe: Probe) -> Attestation | None:
    """Sign and store the statement for an ok probe (inside the caller's transaction);
    None when no observer key is configured."""
    key = observer_key()
    if key is None or observer_principal_ensure() is None:
        return None
    version = inventory.server_version
    statement = statement_build(
        server_name=version.name, version=version.version, sha256=version.digest,
        predicate_type=OBSERVATION_V1,
        predicate={"verdict": VERDICT_OBSERVED, "toolsDigest": probe.tools_digest,
                   "toolCount": len(probe.tools), "protocolVersion": probe.protocol_version,
                   "url": inventory.url, "transport": inventory.transport,
                   "observedAt": probe.checked_at.isoformat().replace("+00:00", "Z")})
    envelope = dsse.envelope_sign(payload=statement.to_bytes(), keys=[key])
    content = json.dumps(envelope.as_json(), separators=(",", ":")).encode()
    try:
        result = attestation_submit(version=version, kind=KIND_DSSE, content=content,
                                    submitted_by=OBSERVER_ACTOR)
        # Our own signature by our own principal: verified now, so the evidence counts at
        # this commit (and never waits in the submitters' unverified quota).
        attestation = attestation_verify(attestation=result.attestation)
    except RegistryError as exc:  # evidence is lost, the observation is not
        log.warning("discovery.observation.refused version=%s reason=%s", version, exc.message)
        return None
    log.info("discovery.observation.signed version=%s digest=%s state=%s", version,
             probe.tools_digest, attestation.state)
    return attestation
