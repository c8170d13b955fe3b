from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    """Search documents, ranking (lexical and semantic), embeddings, tool inventory, probes."""

    name = "discovery"

    def ready(self) -> None:
        # Connects the receivers (Django's documented place to import them).
        from discovery import receivers  # noqa: F401
