"""Mirroring an upstream registry (see docs/curation.md, "How a sync works").

`run` walks and ingests; `fetch` gets and parses one page over HTTP; `screen` rejects the
entries the database cannot hold; `checkpoint` is the walk in progress, stored on the
upstream; `guard` stops a walk whose cursors loop; `errors` says why a sync stopped.
"""

from curation.sync.errors import SyncBusy, SyncError
from curation.sync.run import SyncReport, abandoned_runs_close, upstream_sync

__all__ = ["SyncBusy", "SyncError", "SyncReport", "abandoned_runs_close", "upstream_sync"]
