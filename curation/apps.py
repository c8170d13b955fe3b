from django.apps import AppConfig

from ops import metrics as ops_metrics


class CurationConfig(AppConfig):
    """Upstreams, mirroring, catalogs, rules, reviews and overlays."""

    name = "curation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receivers and adds sync and catalog series to /metrics. Both read
        # models, hence imported here (Django's documented place).
        from curation import metrics, receivers  # noqa: F401

        ops_metrics.register_collector(metrics.collect)
