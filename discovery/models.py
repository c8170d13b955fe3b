"""Search documents (one per served latest version) and their embeddings (by content hash);
the tool inventory: what each remote version was observed to offer, probe by probe."""

from __future__ import annotations

from django.db import models

from curation.models import Catalog
from registry.models import ServerVersion


class SearchDocument(models.Model):
    """What search reads of a version: the text fields, facets and their content hash.

    One row per version that is the latest somewhere (the registry or a catalog); rewritten
    only when the hash of what it says changes (discovery.services.documents_refresh).
    """

    server_version = models.OneToOneField(ServerVersion, on_delete=models.CASCADE,
                                          primary_key=True, related_name="search_document")
    name = models.CharField(max_length=200, db_index=True)
    title = models.TextField(blank=True)
    description = models.TextField(blank=True)
    packages = models.TextField(blank=True)
    hosts = models.TextField(blank=True)
    repository = models.TextField(blank=True)
    tools = models.TextField(blank=True, help_text="tool names and descriptions (inventory)")
    keys = models.JSONField(default=list, help_text="exact-match keys: name, package ids")
    registry_types = models.JSONField(default=list)
    transports = models.JSONField(default=list)
    has_remote = models.BooleanField(default=False)
    has_package = models.BooleanField(default=False)
    namespace = models.CharField(max_length=200)
    content_hash = models.CharField(max_length=64, help_text="sha256 of every field above")
    embed_hash = models.CharField(max_length=64, db_index=True,
                                  help_text="sha256 of the embedded text (Embedding.content_hash)")
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.server_version_id})"


class Embedding(models.Model):
    """A sentence embedding of a document's text, keyed by that text's content hash."""

    content_hash = models.CharField(max_length=64)
    model = models.CharField(max_length=100)
    vector = models.BinaryField(help_text="float32, L2-normalized")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_hash", "model"],
                                               name="uniq_embedding")]

    def __str__(self) -> str:
        return f"{self.model}:{self.content_hash[:12]}"


class ProbeStatus(models.TextChoices):
    OK = "ok"
    UNREACHABLE = "unreachable"
    NOT_MCP = "not-mcp", "not MCP"
    AUTH_REQUIRED = "auth-required", "auth required"
    SKIPPED = "skipped"


class Drift(models.TextChoices):
    NONE = "", "none"
    CHANGED = "changed", "tool set changed between probes"
    DECLARED = "declared", "observed tools differ from the declared ones"


class Inventory(models.Model):
    """A version's current inventory: its probed remote, the last outcome and when to look
    again (one row per version with a remote; served in `_meta` with one query per page)."""

    server_version = models.OneToOneField(ServerVersion, on_delete=models.CASCADE,
                                          related_name="inventory")
    name = models.CharField(max_length=200, db_index=True)
    url = models.CharField(max_length=2000)
    transport = models.CharField(max_length=20)
    host = models.CharField(max_length=255, db_index=True)
    skip_reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=ProbeStatus.choices, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    last_ok_at = models.DateTimeField(null=True, blank=True)
    protocol_version = models.CharField(max_length=40, blank=True)
    server_info = models.JSONField(default=dict, blank=True)
    tool_count = models.IntegerField(null=True, blank=True)
    prompt_count = models.IntegerField(null=True, blank=True)
    resource_count = models.IntegerField(null=True, blank=True)
    tools_digest = models.CharField(max_length=71, blank=True)
    declared_digest = models.CharField(max_length=71, blank=True)
    declared_names = models.JSONField(default=list, blank=True)
    drift = models.CharField(max_length=20, choices=Drift.choices, blank=True)
    drift_at = models.DateTimeField(null=True, blank=True)
    authorization_servers = models.JSONField(default=list, blank=True)
    failures = models.IntegerField(default=0)  # consecutive non-ok outcomes: the backoff
    next_probe_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        verbose_name_plural = "inventories"

    def __str__(self) -> str:
        return f"{self.name} {self.status or 'unprobed'}"


class Probe(models.Model):
    """One probe of a version's remote: what was observed then (the history)."""

    inventory = models.ForeignKey(Inventory, on_delete=models.CASCADE, related_name="probes")
    checked_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=20, choices=ProbeStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    duration_ms = models.IntegerField(default=0)
    protocol_version = models.CharField(max_length=40, blank=True)
    server_info = models.JSONField(default=dict, blank=True)
    tools = models.JSONField(default=list, blank=True)
    tools_digest = models.CharField(max_length=71, blank=True)
    prompt_count = models.IntegerField(null=True, blank=True)
    resource_count = models.IntegerField(null=True, blank=True)
    authorization_servers = models.JSONField(default=list, blank=True)
    drift = models.CharField(max_length=20, choices=Drift.choices, blank=True)
    requested_by = models.CharField(max_length=200, blank=True)  # "probe now", else scheduled

    class Meta:
        ordering = ["-checked_at", "-id"]

    def __str__(self) -> str:
        return f"{self.inventory.name} {self.status} {self.checked_at:%Y-%m-%d %H:%M}"


class Tool(models.Model):
    """One tool of a version's current observed set (searchable; replaced on change)."""

    inventory = models.ForeignKey(Inventory, on_delete=models.CASCADE, related_name="tools")
    server_version = models.ForeignKey(ServerVersion, on_delete=models.CASCADE,
                                       related_name="+")
    name = models.CharField(max_length=200)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    input_schema = models.JSONField(default=dict, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    document = models.JSONField(default=dict)  # the normalized tool, as served
    search_text = models.TextField(blank=True)  # lower-cased name, title and description

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["inventory", "name"],
                                               name="discovery_tool_unique_name")]

    def __str__(self) -> str:
        return self.name


class CatalogInventoryPolicy(models.Model):
    """A catalog's inventory requirements: liveness within N days, a pinned tool set."""

    catalog = models.OneToOneField(Catalog, on_delete=models.CASCADE,
                                   related_name="inventory_policy")
    live_within_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="remote versions must have probed ok this recently")
    pin_tools = models.BooleanField(
        default=False, help_text="pin the tool-set digest at approval; drift sends the version "
                                 "back to review")

    class Meta:
        verbose_name_plural = "catalog inventory policies"

    def __str__(self) -> str:
        return f"{self.catalog.slug} inventory policy"


class ToolsetPin(models.Model):
    """The tool-set digest a catalog accepted for a version (set when it was approved)."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="toolset_pins")
    server_version = models.ForeignKey(ServerVersion, on_delete=models.CASCADE,
                                       related_name="+")
    digest = models.CharField(max_length=71)
    pinned_by = models.CharField(max_length=200)
    pinned_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["catalog", "server_version"],
                                               name="discovery_toolsetpin_unique")]

    def __str__(self) -> str:
        return f"{self.catalog.slug} {self.server_version_id} {self.digest[:15]}"
