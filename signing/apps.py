from django.apps import AppConfig


class SigningConfig(AppConfig):
    """Attestations, principals, trust roots and trust policies."""

    name = "signing"
    default_auto_field = "django.db.models.BigAutoField"
