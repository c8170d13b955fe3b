from django.apps import AppConfig


class WebConfig(AppConfig):
    """The server-rendered catalog: browse, server pages, account and guide."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "web"
