from django.apps import AppConfig


class SigningConfig(AppConfig):
    """Attestations, principals, trust roots and trust policies."""

    name = "signing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the cache-invalidation receivers (Django's documented place to do so), and
        # adds the trust summary to the registry's write responses (PUT, status changes):
        # the registry cannot import signing.
        from registry.api.render import register_meta_contributor
        from signing import receivers  # noqa: F401
        from signing.selectors import trust_meta_for_versions

        register_meta_contributor(trust_meta_for_versions)
