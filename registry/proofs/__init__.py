"""Namespace proofs: each method verifies a proof and returns the permissions it grants."""
