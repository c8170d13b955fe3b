"""Cache invalidation: catalog membership is derived from versions, refresh it on change;
cached catalog responses (ops.generations) are dropped when a catalog changes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from curation.models import Catalog, CatalogEntry, CatalogOverlay, CatalogPin, CatalogRule
from curation.services.membership import catalogs_follow_trust
from curation.tasks import catalogs_reconcile_task
from ops import generations
from registry.signals import versions_changed, versions_touched
from signing.signals import trust_changed

# Saving only these fields (a reconcile pass that found nothing) changes no response.
_BOOKKEEPING = frozenset({"rebuilt_at", "watermark_id", "watermark_at"})


@receiver(versions_changed, dispatch_uid="curation.reconcile")
def reconcile_catalogs(sender: Any, names: set[str], **kwargs: Any) -> None:
    """Local publishes and status changes reach every catalog without waiting for beat."""
    transaction.on_commit(catalogs_reconcile_task.delay)


@receiver(trust_changed, dispatch_uid="curation.trust.follow")
def follow_trust(sender: Any, version_ids: Any = (), policies: Any = (), **kwargs: Any) -> None:
    """Trust-gated catalogs follow a trust change in its own transaction (fail closed)."""
    catalogs_follow_trust(version_ids=version_ids, policies=policies)


@receiver(versions_touched, dispatch_uid="curation.generations.versions")
def drop_catalogs_showing(sender: Any, names: set[str], **kwargs: Any) -> None:
    """Catalogs already listing these servers serve their new state: drop their pages."""
    def bump() -> None:
        slugs = (Catalog.objects.filter(pk__in=CatalogEntry.objects.filter(
            name__in=sorted(names), listed=True).values("catalog_id"))
            .values_list("slug", flat=True))
        generations.bump(slugs)
    transaction.on_commit(bump)


@receiver(post_save, sender=Catalog, dispatch_uid="curation.generations.catalog_saved")
def drop_catalog_saved(sender: Any, instance: Catalog, update_fields: Any = None,
                       **kwargs: Any) -> None:
    if update_fields is not None and set(update_fields) <= _BOOKKEEPING:
        return
    generations.bump([instance.slug])


@receiver(post_delete, sender=Catalog, dispatch_uid="curation.generations.catalog_deleted")
def drop_catalog_deleted(sender: Any, instance: Catalog, **kwargs: Any) -> None:
    generations.bump([instance.slug])


def drop_catalog_of(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A rule, pin or overlay changed (also from the admin): its catalog's pages go."""
    slug = Catalog.objects.filter(pk=instance.catalog_id).values_list("slug", flat=True).first()
    if slug:
        generations.bump([slug])


for _model in (CatalogRule, CatalogPin, CatalogOverlay):
    for _signal in (post_save, post_delete):
        _signal.connect(drop_catalog_of, sender=_model,
                        dispatch_uid=f"curation.generations.{_model.__name__}.{_signal is post_save}")


def catalog_visibility(slug: str) -> bool | None:
    """For the response cache: is this catalog readable without a token (None: no such).
    Registered with ops.generations by CurationConfig.ready."""
    return Catalog.objects.filter(slug=slug).values_list("public", flat=True).first()
