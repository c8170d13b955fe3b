from django.apps import AppConfig


class RegistryConfig(AppConfig):
    """Servers, versions, manifests, publishing, tokens and the standard API."""

    name = "registry"
    default_auto_field = "django.db.models.BigAutoField"
