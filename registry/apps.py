from django.apps import AppConfig

from ops import metrics as ops_metrics


class RegistryConfig(AppConfig):
    """Servers, versions, manifests, publishing, tokens and the standard API."""

    name = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Reads models, so imported once the app registry is ready (Django's documented place).
        from registry import metrics

        ops_metrics.register_collector(metrics.collect)
