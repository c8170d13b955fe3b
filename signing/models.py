"""Trust roots, principals, trust policies and attestations on server versions."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from mcp_index_common.statements import REVIEW_V1, VERDICT_APPROVED
from mcp_index_common.verification import FAILED, KIND_DSSE, KIND_SIGSTORE, UNVERIFIED, VERIFIED


class TrustRoot(models.Model):
    """A sigstore instance whose certificates we accept: production (embedded) or private."""

    PRODUCTION = "production"
    CUSTOM = "custom"
    KINDS = [
        (PRODUCTION, "sigstore public-good (embedded root)"),
        (CUSTOM, "private instance (trusted_root.json)"),
    ]

    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=KINDS, default=CUSTOM)
    trusted_root_json = models.TextField(
        blank=True, help_text="the instance's trusted_root.json (custom roots only)"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="production") | ~Q(trusted_root_json=""),
                name="trustroot_custom_has_json",
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class Principal(models.Model):
    """Someone who may vouch: a sigstore identity under a trust root, or a public key."""

    SIGSTORE = KIND_SIGSTORE
    KEY = "key"
    KINDS = [(SIGSTORE, "sigstore identity"), (KEY, "public key (DSSE)")]

    slug = models.SlugField(max_length=100, unique=True)
    display_name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=KINDS)
    trust_root = models.ForeignKey(
        TrustRoot, null=True, blank=True, on_delete=models.PROTECT, related_name="principals"
    )
    oidc_issuer = models.CharField(max_length=500, blank=True)
    subject = models.CharField(
        max_length=500, blank=True, help_text="certificate SAN: email, URI, or a regex if a pattern"
    )
    subject_is_pattern = models.BooleanField(default=False)
    public_key_pem = models.TextField(blank=True, help_text="Ed25519 or ECDSA P-256/P-384")
    keyid = models.CharField(
        max_length=64, blank=True, db_index=True, help_text="sha256 of the key's SPKI DER, computed on save"
    )
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="after this, the principal's vouching counts no more"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="sigstore", trust_root__isnull=False) & ~Q(oidc_issuer="") & ~Q(subject=""))
                | (Q(kind="key") & ~Q(public_key_pem="") & ~Q(keyid="")),
                name="principal_kind_fields",
            ),
        ]

    def __str__(self) -> str:
        return self.slug


def _default_predicate_types() -> list[str]:
    return [REVIEW_V1]


def _default_verdicts() -> list[str]:
    return [VERDICT_APPROVED]


class TrustPolicy(models.Model):
    """k of these principals must vouch for a version, with accepted predicates and verdicts."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    principals = models.ManyToManyField(Principal, related_name="policies", blank=True)
    threshold = models.PositiveSmallIntegerField(validators=[MinValueValidator(1)])
    predicate_types = models.JSONField(default=_default_predicate_types)
    verdicts = models.JSONField(
        default=_default_verdicts, blank=True, help_text="accepted verdicts; empty accepts any"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "trust policies"
        constraints = [
            models.CheckConstraint(condition=Q(threshold__gte=1), name="policy_threshold_min"),
        ]

    def __str__(self) -> str:
        return self.slug


class Attestation(models.Model):
    """A signed statement about one server version as submitted, and its verification."""

    PENDING = "pending"
    STATES = [(PENDING, "pending"), (VERIFIED, "verified"), (UNVERIFIED, "unverified"), (FAILED, "failed")]
    KINDS = [(KIND_SIGSTORE, "sigstore bundle"), (KIND_DSSE, "DSSE envelope (key)")]

    version = models.ForeignKey(
        "registry.ServerVersion", on_delete=models.CASCADE, related_name="attestations"
    )
    kind = models.CharField(max_length=16, choices=KINDS)
    content = models.TextField(help_text="the bundle or envelope exactly as submitted")
    content_sha256 = models.CharField(max_length=64)
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    reason = models.TextField(blank=True)
    predicate_type = models.CharField(max_length=500, blank=True)
    verdict = models.CharField(max_length=50, blank=True)
    subject_sha256 = models.CharField(
        max_length=64, blank=True, help_text="the manifest digest the statement names"
    )
    signer = models.CharField(max_length=1000, blank=True, help_text="who signed: keyids or 'issuer subject'")
    principals = models.ManyToManyField(
        Principal,
        related_name="attestations",
        blank=True,
        help_text="known principals whose signature verified",
    )
    signed_at = models.DateTimeField(null=True, blank=True, help_text="transparency log time (sigstore only)")
    verified_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.CharField(max_length=300, help_text="caller actor or client address")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["version", "content_sha256"], name="uniq_attestation_content"),
        ]
        indexes = [
            models.Index(fields=["state", "kind"], name="att_state_kind"),
            models.Index(fields=["submitted_by", "created_at"], name="att_submitter_time"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} on {self.version_id} ({self.state})"
