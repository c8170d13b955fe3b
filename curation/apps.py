from django.apps import AppConfig


class CurationConfig(AppConfig):
    """Upstreams, mirroring, catalogs, rules, reviews and overlays."""

    name = "curation"
    default_auto_field = "django.db.models.BigAutoField"
