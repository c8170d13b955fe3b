from django.apps import AppConfig

from ops import metrics as ops_metrics
from ops import ratelimit as ops_ratelimit


class RegistryConfig(AppConfig):
    """Servers, versions, manifests, publishing, tokens and the standard API."""

    name = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Reads models, so imported once the app registry is ready (Django's documented place).
        from registry import metrics
        from registry.auth.credentials import credential_identity

        ops_metrics.register_collector(metrics.collect)
        # Rate limits key on who a credential proves to be (registry/auth/credentials.py).
        ops_ratelimit.register_credential_resolver(credential_identity)
