from django.apps import AppConfig


class DiscoveryConfig(AppConfig):
    """Search documents, ranking (lexical and semantic), embeddings, tool inventory, probes."""

    name = "discovery"
