"""Cache invalidation only: trust summaries are part of every read response."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from ops import generations
from registry.models import ServerVersion
from registry.services import versions_invalidate
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot


def drop_attested_version(sender: Any, instance: Attestation, **kwargs: Any) -> None:
    """An attestation was stored, verified or removed: its server's pages change (its
    principals are set in the same transaction, before the on-commit bump)."""
    names = ServerVersion.objects.filter(pk=instance.version_id).values_list("name", flat=True)
    versions_invalidate(names=list(names))


def drop_everything(sender: Any, **kwargs: Any) -> None:
    """Principals, roots and policies feed every trust summary in every catalog."""
    generations.bump_everything()


post_save.connect(drop_attested_version, sender=Attestation, dispatch_uid="signing.gen.att.save")
post_delete.connect(drop_attested_version, sender=Attestation, dispatch_uid="signing.gen.att.del")
for _model in (Principal, TrustRoot, TrustPolicy):
    post_save.connect(drop_everything, sender=_model, dispatch_uid=f"signing.gen.{_model.__name__}.s")
    post_delete.connect(drop_everything, sender=_model, dispatch_uid=f"signing.gen.{_model.__name__}.d")
m2m_changed.connect(drop_everything, sender=TrustPolicy.principals.through,
                    dispatch_uid="signing.gen.policy.principals")
