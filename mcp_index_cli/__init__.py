"""The `mcp-index` command-line client: a small HTTP client importing neither Django nor an app."""
