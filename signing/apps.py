from django.apps import AppConfig

from ops import metrics as ops_metrics


class SigningConfig(AppConfig):
    """Attestations, principals, trust roots and trust policies."""

    name = "signing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the cache-invalidation receivers and adds the attestation series to
        # /metrics; both read models, hence imported here (Django's documented place).
        from signing import metrics, receivers  # noqa: F401

        ops_metrics.register_collector(metrics.collect)
