"""Mirroring an upstream registry (see docs/curation.md, "How a sync works").

`run` walks and ingests, `fetch` gets one page over HTTP, `errors` says why a sync stopped.
"""

from curation.sync.errors import SyncBusy, SyncError
from curation.sync.run import SyncReport, upstream_sync

__all__ = ["SyncBusy", "SyncError", "SyncReport", "upstream_sync"]
