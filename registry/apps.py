from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Servers, versions, manifests, publishing, tokens and the standard API."""

    name = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from registry.auth.credentials import credential_identity
        from registry.ops.ratelimit import register_credential_resolver

        # Rate limits key on who a credential proves to be (registry/auth/credentials.py).
        register_credential_resolver(credential_identity)
