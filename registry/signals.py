"""Signals for cache invalidation only: derived views (catalog membership) listen here."""

from django.dispatch import Signal

# Sent after the transaction that published, edited or changed the status of versions
# commits; `names` is the set of server names touched. Receivers refresh derived data.
versions_changed = Signal()
