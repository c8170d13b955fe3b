"""Django-free code shared by the server and the `mcp-index` CLI.

Manifest validation, DSSE envelopes, in-toto statements, trust-policy evaluation and
sigstore/attestation verification: both sides reach the same verdict from the same bytes.
Imports neither Django nor any app package (tests/cli/test_no_django.py checks it).
"""
