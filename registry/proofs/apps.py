from django.apps import AppConfig


class ProofsConfig(AppConfig):
    """Namespace proofs exchanged for registry tokens, and their replay ledger."""

    name = "registry.proofs"
    label = "proofs"
    default_auto_field = "django.db.models.BigAutoField"
