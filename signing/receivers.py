"""Cache invalidation (trust summaries are part of every read response), and announcing
trust changes made outside the services (admin deletes, policy principals) to derived views."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

from ops import generations
from registry.models import ServerVersion
from registry.services import versions_invalidate
from signing.models import Attestation, Principal, TrustPolicy, TrustRoot
from signing.signals import trust_changed


def drop_attested_version(sender: Any, instance: Attestation, **kwargs: Any) -> None:
    """An attestation was stored, verified or removed: its server's pages change (its
    principals are set in the same transaction, before the on-commit bump)."""
    names = ServerVersion.objects.filter(pk=instance.version_id).values_list("name", flat=True)
    versions_invalidate(names=list(names))


def drop_everything(sender: Any, **kwargs: Any) -> None:
    """Principals, roots and policies feed every trust summary in every catalog."""
    generations.bump_everything()


def attestation_deleted(sender: Any, instance: Attestation, **kwargs: Any) -> None:
    """A removed attestation vouches no more for its version."""
    trust_changed.send(sender=Attestation, version_ids={instance.version_id})


def principal_deleting(sender: Any, instance: Principal, **kwargs: Any) -> None:
    """Remember what the principal vouched for: its links are gone once it is deleted."""
    instance._vouched_for = set(  # type: ignore[attr-defined]
        Attestation.objects.filter(principals=instance).values_list("version_id", flat=True))


def principal_deleted(sender: Any, instance: Principal, **kwargs: Any) -> None:
    """However it was deleted (service, admin bulk action), what it vouched for is re-evaluated."""
    vouched: set[int] = getattr(instance, "_vouched_for", set())
    if vouched:
        trust_changed.send(sender=Principal, version_ids=vouched)


def policy_changed(sender: Any, instance: TrustPolicy, **kwargs: Any) -> None:
    """Threshold, accepted claims or existence of a policy changed."""
    trust_changed.send(sender=TrustPolicy, policies={instance.slug})


def policy_principals_changed(sender: Any, instance: Any, action: str, reverse: bool,
                              pk_set: set[int] | None, **kwargs: Any) -> None:
    """Principals joined or left a policy (from either side of the relation)."""
    generations.bump_everything()
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        slugs = {instance.slug}
    elif action == "post_clear":  # a principal left every policy: which ones is gone
        slugs = set(TrustPolicy.objects.values_list("slug", flat=True))
    else:
        slugs = set(TrustPolicy.objects.filter(pk__in=pk_set or ()).values_list("slug", flat=True))
    if slugs:
        trust_changed.send(sender=TrustPolicy, policies=slugs)


post_save.connect(drop_attested_version, sender=Attestation, dispatch_uid="signing.gen.att.save")
post_delete.connect(drop_attested_version, sender=Attestation, dispatch_uid="signing.gen.att.del")
post_delete.connect(attestation_deleted, sender=Attestation, dispatch_uid="signing.trust.att.del")
for _model in (Principal, TrustRoot, TrustPolicy):
    post_save.connect(drop_everything, sender=_model, dispatch_uid=f"signing.gen.{_model.__name__}.s")
    post_delete.connect(drop_everything, sender=_model, dispatch_uid=f"signing.gen.{_model.__name__}.d")
pre_delete.connect(principal_deleting, sender=Principal, dispatch_uid="signing.trust.principal.pre")
post_delete.connect(principal_deleted, sender=Principal, dispatch_uid="signing.trust.principal.del")
post_save.connect(policy_changed, sender=TrustPolicy, dispatch_uid="signing.trust.policy.save")
post_delete.connect(policy_changed, sender=TrustPolicy, dispatch_uid="signing.trust.policy.del")
m2m_changed.connect(policy_principals_changed, sender=TrustPolicy.principals.through,
                    dispatch_uid="signing.gen.policy.principals")
