"""Signals for cache invalidation only: derived views (catalog membership) listen here."""

from django.dispatch import Signal

# Sent after the transaction that published, edited or changed the status of versions
# commits; `names` is the set of server names touched. Receivers refresh derived data.
versions_changed = Signal()

# Sent inside the writing transaction whenever what readers see of these servers changes
# (versions written, ingested or deleted, attestations verified); `names` as above.
# Receivers drop cached responses (ops.generations) and must not do other work.
versions_touched = Signal()
