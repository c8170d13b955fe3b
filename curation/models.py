"""Upstreams and their sync runs, reserved namespaces, catalogs, rules, reviews and entries."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from curation.querysets import CatalogEntryQuerySet
from registry.models import ServerVersion


class ReservedNamespace(models.Model):
    """A namespace pattern (fnmatch, e.g. `com.acme` or `com.acme.*`) no upstream may fill."""

    pattern = models.CharField(max_length=200, unique=True)
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.pattern


class Upstream(models.Model):
    """A registry that speaks the standard API, mirrored incrementally into this one."""

    name = models.SlugField(max_length=100, unique=True,
                            help_text="also the origin recorded on mirrored versions")
    base_url = models.URLField(max_length=500, help_text="e.g. https://registry.example/v0.1")
    # Sent as the Authorization header; write-only everywhere (admin, API, logs).
    auth_header = models.TextField(blank=True)
    include_patterns = models.JSONField(default=list, blank=True,
                                        help_text="server name globs; empty includes all")
    exclude_patterns = models.JSONField(default=list, blank=True)
    interval_minutes = models.PositiveIntegerField(default=60)
    priority = models.IntegerField(default=100, help_text="lower wins when two upstreams "
                                   "serve the same name and version")
    enabled = models.BooleanField(default=True)
    overlap_seconds = models.PositiveIntegerField(default=300)
    page_size = models.PositiveSmallIntegerField(default=100)
    high_water = models.DateTimeField(null=True, blank=True,
                                      help_text="newest upstream updatedAt fully synced")
    # The walk in progress, as curation.sync.checkpoint.SyncCheckpoint.to_json(); None when
    # idle. Read it with SyncCheckpoint.from_json, which validates it.
    checkpoint = models.JSONField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    """One invocation of a sync: what it fetched and what it did."""

    class State(models.TextChoices):
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        INTERRUPTED = "interrupted"

    upstream = models.ForeignKey(Upstream, on_delete=models.CASCADE, related_name="runs")
    mode = models.CharField(max_length=16)  # incremental | full
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    resumed = models.BooleanField(default=False, help_text="continued an unfinished walk")
    since = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    pages = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="outside the name filters")
    conflicts = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    invalid = models.PositiveIntegerField(default=0, help_text="stored with validation issues")
    vanished = models.PositiveIntegerField(default=0)
    retries = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    log = models.JSONField(default=list, blank=True, help_text="rejections and errors (capped)")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.upstream} {self.mode} {self.state}"


class SyncConflict(models.Model):
    """An upstream entry refused because it would shadow an internal or reserved name."""

    upstream = models.ForeignKey(Upstream, on_delete=models.CASCADE, related_name="conflicts")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=255)
    reason = models.CharField(max_length=500)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)
    last_run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["upstream", "name", "version"],
                                               name="uniq_sync_conflict")]

    def __str__(self) -> str:
        return f"{self.name}@{self.version} from {self.upstream}"


class FullSyncSeen(models.Model):
    """A mirrored version seen by a full walk (committed with its page, so walks resume)."""

    walk = models.BigIntegerField(db_index=True, help_text="id of the run that began the walk")
    server_version_id = models.BigIntegerField()

    def __str__(self) -> str:
        return f"walk {self.walk}: {self.server_version_id}"


class DirtyServer(models.Model):
    """A server name whose catalog membership must be recomputed (reconcile queue)."""

    name = models.CharField(max_length=200, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Action(models.TextChoices):
    ALLOW = "allow"
    DENY = "deny"
    REVIEW = "review"


class ReviewMode(models.TextChoices):
    AUTOMATIC = "automatic"
    NEW_SERVERS = "new_servers"
    EVERY_VERSION = "every_version"


class Catalog(models.Model):
    """A subregistry: sources, ordered rules, review mode, pins and overlays."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    public = models.BooleanField(default=True, help_text="readable without a token")
    sources = models.JSONField(default=list, blank=True,
                               help_text="origins ('local' or upstream names); empty = all")
    default_action = models.CharField(max_length=8, choices=Action.choices, default=Action.ALLOW)
    review_mode = models.CharField(max_length=16, choices=ReviewMode.choices,
                                   default=ReviewMode.AUTOMATIC)
    trust_policy = models.CharField(max_length=100, blank=True,
                                    help_text="slug of a trust policy every version must satisfy")
    generation = models.PositiveBigIntegerField(default=0, help_text="bumped on every change")
    # Reconcile watermarks: versions created (id) or changed (updated_at) after these are
    # re-examined by the periodic reconcile, which heals anything a task missed.
    watermark_id = models.BigIntegerField(default=0)
    watermark_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.slug


class CatalogRule(models.Model):
    """One ordered rule; every non-empty criterion must match; first matching rule wins."""

    class Kind(models.TextChoices):
        ANY = ""
        REMOTE = "remote"
        PACKAGE = "package"

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0)
    action = models.CharField(max_length=8, choices=Action.choices)
    name_pattern = models.CharField(max_length=200, blank=True, help_text="glob on the name")
    namespace = models.CharField(max_length=200, blank=True, help_text="glob on the namespace")
    source = models.CharField(max_length=100, blank=True)
    registry_type = models.CharField(max_length=20, blank=True)
    transport = models.CharField(max_length=20, blank=True)
    kind = models.CharField(max_length=8, choices=Kind.choices, blank=True, default="")
    repository_host = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, blank=True)
    schema_valid = models.BooleanField(null=True, blank=True)
    trust_policy = models.CharField(max_length=100, blank=True,
                                    help_text="matches versions satisfying this policy")
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.catalog}#{self.position} {self.action}"


class CatalogPin(models.Model):
    """The catalog shows this server at exactly this version."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="pins")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=255)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["catalog", "name"], name="uniq_pin")]

    def __str__(self) -> str:
        return f"{self.catalog}: {self.name}@{self.version}"


class CatalogOverlay(models.Model):
    """Catalog-local annotations of a server, served under our `_meta` key."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="overlays")
    name = models.CharField(max_length=200)
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    featured = models.BooleanField(default=False)
    install_notes = models.TextField(blank=True, help_text="internal installation notes")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["catalog", "name"], name="uniq_overlay")]

    def __str__(self) -> str:
        return f"{self.catalog}: {self.name}"


class ReviewDecision(models.Model):
    """A reviewer's verdict on a version, or on a whole server when version is empty."""

    class Verdict(models.TextChoices):
        APPROVE = "approve"
        REJECT = "reject"

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="decisions")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=255, blank=True, help_text="empty: the whole server")
    verdict = models.CharField(max_length=8, choices=Verdict.choices)
    include_future = models.BooleanField(default=False,
                                         help_text="a server approval also covers later versions")
    reason = models.CharField(max_length=1000, blank=True)
    decided_by = models.CharField(max_length=300)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["catalog", "name"], name="decision_lookup")]
        ordering = ["-decided_at", "-id"]

    def __str__(self) -> str:
        return f"{self.catalog}: {self.verdict} {self.name}@{self.version or '*'}"


class EntryState(models.TextChoices):
    INCLUDED = "included"
    PENDING = "pending"
    REJECTED = "rejected"
    DENIED = "denied"
    EXCLUDED = "excluded"  # pinned to another version, or no longer from a catalog source
    UNTRUSTED = "untrusted"


class CatalogEntry(models.Model):
    """A version's materialized membership in a catalog, with per-catalog latest and time."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="entries")
    server_version = models.ForeignKey(ServerVersion, on_delete=models.CASCADE,
                                       related_name="catalog_entries")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=EntryState.choices)
    reason = models.CharField(max_length=500, blank=True)
    decided_by = models.CharField(max_length=300, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Served at all: included now, or included once (then served as deleted so that
    # downstream mirrors converge).
    listed = models.BooleanField(default=False)
    status = models.CharField(max_length=16, help_text="the status served by this catalog")
    is_latest = models.BooleanField(default=False)
    updated_at = models.DateTimeField(help_text="per-catalog: bumped on entering, leaving, change")
    seen_updated_at = models.DateTimeField()
    seen_digest = models.CharField(max_length=64)
    seen_status = models.CharField(max_length=16)
    # When this membership stops holding by itself (a trust signer's expiry): past it, the
    # entry is not served (fail closed) until the reconcile recomputes it. None: never.
    trust_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CatalogEntryQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["catalog", "server_version"],
                                               name="uniq_catalog_entry")]
        indexes = [
            models.Index(fields=["catalog", "name", "version"], name="ce_list",
                         condition=Q(listed=True)),
            models.Index(fields=["catalog", "updated_at"], name="ce_updated",
                         condition=Q(listed=True)),
            models.Index(fields=["catalog", "state", "name"], name="ce_state"),
            models.Index(fields=["catalog", "trust_until"], name="ce_trust_until",
                         condition=Q(trust_until__isnull=False)),
        ]
        verbose_name_plural = "catalog entries"

    def __str__(self) -> str:
        return f"{self.catalog}: {self.name}@{self.version} {self.state}"


class CatalogFeed(models.Model):
    """A per-user, revocable, read-only URL of one catalog with a secret in its path
    (`/c/<slug>/k/<secret>/v0.1/…`), for clients that cannot authenticate; stored hashed."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="feeds")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.CASCADE, related_name="catalog_feeds")
    created_by = models.CharField(max_length=300, help_text="the identity that created it")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, help_text="the secret's first characters, to tell feeds apart")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_by", "created_at"], name="feed_creator")]

    def __str__(self) -> str:
        return f"{self.catalog}: {self.name} ({self.prefix}…)"
