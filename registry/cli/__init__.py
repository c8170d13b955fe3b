"""The `mcp-index` command-line client: a small HTTP client that never imports Django."""
