from django.apps import AppConfig

from ops import metrics as ops_metrics


class SigningConfig(AppConfig):
    """Attestations, principals, trust roots and trust policies."""

    name = "signing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the cache-invalidation receivers, adds the attestation series to /metrics
        # and the trust summary to the registry's write responses (PUT, status changes: the
        # registry cannot import signing); all read models, hence imported here (Django's
        # documented place).
        from registry.api.render import register_meta_contributor
        from signing import metrics, receivers  # noqa: F401
        from signing.selectors import trust_meta_for_versions

        ops_metrics.register_collector(metrics.collect)
        register_meta_contributor(trust_meta_for_versions)
