from django.apps import AppConfig


class CurationConfig(AppConfig):
    """Upstreams, mirroring, catalogs, rules, reviews and overlays."""

    name = "curation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receivers (Django's documented place to do so).
        from curation import receivers  # noqa: F401
