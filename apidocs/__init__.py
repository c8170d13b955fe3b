"""The API's own OpenAPI 3.1 document: its YAML source, /openapi.json, /openapi.yaml, /docs.

It sits beside web/ at the top of the layout and imports no app: the source describes the
routes that config/urls.py mounts, and tests/contract/test_openapi_ours.py checks that the
two agree and that real answers validate against it.
"""
