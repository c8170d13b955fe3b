"""Why a sync stopped."""

from __future__ import annotations


class SyncError(Exception):
    """The sync stopped: the walk stays checkpointed and the next sync resumes it."""


class SyncBusy(SyncError):
    """Another sync of the same upstream holds the lock."""
