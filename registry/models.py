"""Server versions, API tokens, audit events and idempotency records."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from registry.querysets import ServerVersionQuerySet


class Status(models.TextChoices):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    DELETED = "deleted"


LOCAL_ORIGIN = "local"


class ServerVersion(models.Model):
    """One published (or mirrored) version of a server, its manifest kept verbatim."""

    name = models.CharField(max_length=200)
    namespace = models.CharField(max_length=200, db_index=True)
    version = models.CharField(max_length=255)
    # The server.json exactly as received: `manifest_text` keeps key order and is what the
    # API serves (no re-serialisation per request); `manifest` is the queryable copy.
    manifest = models.JSONField()
    manifest_text = models.TextField()
    schema_url = models.CharField(max_length=500, blank=True)
    title = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    search_text = models.TextField(blank=True, help_text="lower-cased name, title, description")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    status_message = models.CharField(max_length=500, blank=True)
    status_changed_at = models.DateTimeField()
    published_at = models.DateTimeField()
    updated_at = models.DateTimeField(db_index=True)
    is_latest = models.BooleanField(default=False)
    origin = models.CharField(max_length=200, default=LOCAL_ORIGIN, db_index=True,
                              help_text="'local' or the upstream it was mirrored from")
    digest = models.CharField(max_length=64, help_text="sha256 of the RFC 8785 canonical JSON")
    validation_issues = models.JSONField(default=list, blank=True)
    upstream_meta = models.JSONField(null=True, blank=True,
                                     help_text="the upstream's response _meta, verbatim")

    objects = ServerVersionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="uniq_server_version"),
            models.UniqueConstraint(fields=["name"], condition=Q(is_latest=True),
                                    name="uniq_latest_per_server"),
            models.CheckConstraint(condition=Q(status__in=["active", "deprecated", "deleted"]),
                                   name="server_version_status_valid"),
        ]
        indexes = [
            # Covers list filters in (name, version) order so a page's ids come from an
            # index-only scan; the wide rows are then fetched by id (see selectors.list_page).
            models.Index(fields=["name", "version"], name="sv_list_cover",
                         include=["id", "status", "is_latest", "updated_at", "search_text"]),
        ]

    def __str__(self) -> str:
        return f"{self.name}@{self.version}"


class RemoteUrl(models.Model):
    """A remote URL a version declares; a URL belongs to one server name only."""

    server_version = models.ForeignKey(ServerVersion, on_delete=models.CASCADE,
                                       related_name="remote_urls")
    url = models.CharField(max_length=2000, db_index=True)
    name = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.url


class ApiToken(models.Model):
    """A long-lived, revocable publishing token scoped to name patterns; stored hashed."""

    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    patterns = models.JSONField(default=list, help_text="name patterns, e.g. com.acme/*")
    can_edit = models.BooleanField(default=False, help_text="also grants admin edit")
    scopes = models.JSONField(default=list, blank=True,
                              help_text="extra scopes, e.g. catalog roles")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="api_tokens")
    created_by = models.CharField(max_length=300, blank=True,
                                  help_text="the identity that created it (user or proof)")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEvent(models.Model):
    """Who did what to which target, and when: one row per mutation."""

    actor = models.CharField(max_length=300)
    action = models.CharField(max_length=100, db_index=True)
    target = models.CharField(max_length=500, db_index=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.target} by {self.actor}"


class IdempotencyRecord(models.Model):
    """The stored answer to a publish sent with an Idempotency-Key."""

    key = models.CharField(max_length=200)
    actor = models.CharField(max_length=300)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["actor", "key"], name="uniq_idempotency_key"),
        ]

    def __str__(self) -> str:
        return self.key
