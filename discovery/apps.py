from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    """Search documents, ranking (lexical and semantic), embeddings, tool inventory, probes."""

    name = "discovery"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The search receivers; the inventory summary in the registry's write responses (the
        # registry cannot import discovery) and the inventory gate in catalog membership (nor
        # can curation); all read models, hence imported here (Django's documented place).
        from curation.gates import register_gate
        from discovery import receivers  # noqa: F401
        from discovery.gates import inventory_gate
        from discovery.inventory import inventory_meta_for_versions
        from registry.api.render import register_meta_contributor

        register_meta_contributor(inventory_meta_for_versions)
        register_gate(inventory_gate)
