"""Routes of the API document, mounted at the site root by config/urls.py."""

from django.urls import path

from apidocs import views

app_name = "apidocs"

urlpatterns = [
    path("openapi.json", views.openapi_json, name="openapi-json"),
    path("openapi.yaml", views.openapi_yaml, name="openapi-yaml"),
    path("docs", views.docs, name="docs"),
]
