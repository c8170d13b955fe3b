"""Search documents (one per served latest version) and their embeddings (by content hash)."""

from __future__ import annotations

from django.db import models

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
