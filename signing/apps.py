from django.apps import AppConfig


class SigningConfig(AppConfig):
    """Attestations, principals, trust roots and trust policies."""

    name = "signing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the cache-invalidation receivers (Django's documented place to do so).
        from signing import receivers  # noqa: F401
