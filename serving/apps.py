from django.apps import AppConfig


class ServingConfig(AppConfig):
    """The standard read API of the root and every catalog: reader, SQL and ORM backends, views."""

    name = "serving"

    def ready(self) -> None:
        # Registers the system checks (Django's documented place to do so).
        from serving import checks  # noqa: F401
