"""Signing benchmark: verifications per second per kind, and trust evaluation of a page.

Run from the repository root:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mcp_index_bench \\
        .venv/bin/python bench/signing_bench.py
The database part creates (and drops) a throwaway `test_<name>` database.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.test_settings")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives.asymmetric import ec, ed25519  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from mcp_index_common import dsse  # noqa: E402
from mcp_index_common.policy import Evidence, PolicySpec, policy_check  # noqa: E402
from mcp_index_common.sigstore_verify import (  # noqa: E402
    SigstoreIdentity,
    bundle_verify,
    production_verifier,
    verifier_for,
)
from mcp_index_common.statements import (  # noqa: E402
    REVIEW_V1,
    manifest_digest,
    statement_bytes_for,
)
from mcp_index_common.verification import (  # noqa: E402
    KeyPrincipal,
    SigstorePrincipal,
    Trust,
    attestation_check,
)
from registry.models import ServerVersion  # noqa: E402
from signing import selectors, services  # noqa: E402
from signing.models import Attestation, Principal, TrustPolicy  # noqa: E402
from tests.support.fake_sigstore import FakeSigstore  # noqa: E402

NAME, VERSION = "io.github.acme/db", "1.0.0"
MANIFEST = {"name": NAME, "version": VERSION, "description": "bench"}
DIGEST = manifest_digest(MANIFEST)
ISSUER = "https://idp.acme.example"


def rate(fn: Callable[[], object], *, seconds: float = 1.5) -> tuple[float, float]:
    """Calls per second (median of 3 runs) and mean latency in ms."""
    rates = []
    for _ in range(3):
        n, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / 3:
            fn()
            n += 1
        rates.append(n / (time.perf_counter() - start))
    per_s = statistics.median(rates)
    return per_s, 1000 / per_s


def bench_verification() -> list[tuple[str, float, float]]:
    statement = statement_bytes_for(server_name=NAME, version=VERSION, sha256=DIGEST)
    rows = []
    for label, key in [
        ("dsse ed25519", ed25519.Ed25519PrivateKey.generate()),
        ("dsse ecdsa-p256", ec.generate_private_key(ec.SECP256R1())),
        ("dsse ecdsa-p384", ec.generate_private_key(ec.SECP384R1())),
    ]:
        content = json.dumps(dsse.envelope_sign(payload=statement, keys=[key]).as_json()).encode()
        others = [
            KeyPrincipal(
                id=f"p{i}",
                key=dsse.public_key_load(dsse.public_key_pem(ed25519.Ed25519PrivateKey.generate())),
            )
            for i in range(20)
        ]
        trust = Trust(
            keys=[*others, KeyPrincipal(id="me", key=dsse.public_key_load(dsse.public_key_pem(key)))]
        )

        def check(content: bytes = content, trust: Trust = trust) -> None:
            result = attestation_check(
                kind="dsse", content=content, server_name=NAME, version=VERSION, sha256=DIGEST, trust=trust
            )
            assert result.state == "verified"

        rows.append((f"{label} (21 trusted keys, keyid hint)", *rate(check)))
    fake = FakeSigstore(name="bench")
    bundle = fake.sign_dsse(statement, identity="alice@acme.example", issuer=ISSUER).encode()
    verifier = verifier_for(fake.trusted_root_json())
    trust = Trust(
        verifiers={"corp": verifier},
        identities=[
            SigstorePrincipal(
                id="alice",
                root="corp",
                identity=SigstoreIdentity(issuer=ISSUER, subject="alice@acme.example"),
            )
        ],
    )

    def sig_check() -> None:
        result = attestation_check(
            kind="sigstore", content=bundle, server_name=NAME, version=VERSION, sha256=DIGEST, trust=trust
        )
        assert result.state == "verified"

    rows.append(("sigstore DSSE bundle, private root", *rate(sig_check)))
    assets = ROOT / "tests" / "signing" / "data"
    artifact = (assets / "bundle_v3_github.whl").read_bytes()
    real = (assets / "bundle_v3_github.whl.sigstore").read_bytes()
    prod = production_verifier()

    def prod_check() -> None:
        assert bundle_verify(real, verifier=prod, artifact=artifact).ok

    rows.append(("sigstore real public bundle, production root", *rate(prod_check)))
    return rows


def bench_pure_policy() -> tuple[float, float]:
    spec = PolicySpec(
        threshold=2, principals={f"p{i}": None for i in range(5)}, predicate_types=frozenset({REVIEW_V1})
    )
    evidence = [
        Evidence(
            principal=f"p{i % 7}",
            predicate_type=REVIEW_V1,
            verdict="approved",
            server_name=NAME,
            version=VERSION,
            sha256=DIGEST,
        )
        for i in range(6)
    ]
    now = timezone.now()

    def page() -> None:
        for _ in range(100):
            policy_check(spec, evidence, server_name=NAME, version=VERSION, sha256=DIGEST, now=now)

    return rate(page)


def bench_db_page() -> tuple[float, float, int, float]:
    """trust_meta_for_versions over 100 versions, 3 verified signers each, 5 policies."""
    keys = {f"p{i}": ed25519.Ed25519PrivateKey.generate() for i in range(5)}
    principals = [
        services.principal_save(
            principal=Principal(
                slug=s, display_name=s, kind=Principal.KEY, public_key_pem=dsse.public_key_pem(k)
            ),
            actor="bench",
        )
        for s, k in keys.items()
    ]
    for t in range(1, 6):
        services.policy_save(
            policy=TrustPolicy(slug=f"k{t}", title=f"{t} of 5", threshold=t),
            principals=principals,
            actor="bench",
        )
    now = timezone.now()
    ids = []
    start = time.perf_counter()
    for i in range(100):
        doc = {"name": f"io.github.bench/s{i:03d}", "version": "1.0.0", "description": "b"}
        sv = ServerVersion.objects.create(
            name=doc["name"],
            namespace="io.github.bench",
            version="1.0.0",
            manifest=doc,
            manifest_text=json.dumps(doc),
            status_changed_at=now,
            published_at=now,
            updated_at=now,
            is_latest=True,
            digest=manifest_digest(doc),
        )
        ids.append(sv.pk)
        payload = statement_bytes_for(server_name=sv.name, version="1.0.0", sha256=sv.digest)
        for slug in ("p0", "p1", "p2"):
            content = json.dumps(dsse.envelope_sign(payload=payload, keys=[keys[slug]]).as_json()).encode()
            services.attestation_submit(version=sv, kind="dsse", content=content, submitted_by="bench")
    submit_s = time.perf_counter() - start  # 300 submits, verified inline (eager Celery)
    assert Attestation.objects.filter(state="verified").count() == 300
    per_s, ms = rate(lambda: selectors.trust_meta_for_versions(ids), seconds=3)
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        cProfile.runctx(
            "for _ in range(20): f(ids)",
            {"f": selectors.trust_meta_for_versions, "ids": ids},
            {},
            sort="tottime",
        )
    return per_s, ms, 300, submit_s


def main() -> None:
    logging.disable(logging.WARNING)  # per-attestation INFO lines would dominate the output
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    for label, per_s, ms in bench_verification():
        print(f"{label:55s} {per_s:9.0f}/s  {ms:7.3f} ms")
    per_s, ms = bench_pure_policy()
    print(f"{'policy_check x100 versions (pure Python)':55s} {per_s:9.0f}/s  {ms:7.3f} ms")
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        per_s, ms, n, submit_s = bench_db_page()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
    print(f"{'trust_meta_for_versions, page of 100 (PostgreSQL)':55s} {per_s:9.0f}/s  {ms:7.3f} ms")
    print(
        f"{'submit+verify (eager) per attestation':55s} {n / submit_s:9.0f}/s  {1000 * submit_s / n:7.3f} ms"
    )


if __name__ == "__main__":
    main()
