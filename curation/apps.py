from django.apps import AppConfig

from ops import generations
from ops import metrics as ops_metrics


class CurationConfig(AppConfig):
    """Upstreams, mirroring, catalogs, rules, reviews and overlays."""

    name = "curation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects the receivers, tells the response cache which catalogs exist and are
        # public and how long their pages may live (trust deadlines), and adds sync and
        # catalog series to /metrics. All read models, hence imported here (Django's
        # documented place).
        from curation import metrics, receivers, trust

        generations.register_visibility(receivers.catalog_visibility)
        generations.register_lifetime(trust.cache_lifetime)
        ops_metrics.register_collector(metrics.collect)
