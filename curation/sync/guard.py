"""Catching an upstream whose pagination never ends: a cursor or a page seen before."""

from __future__ import annotations

import json

from curation.sync.checkpoint import SyncCheckpoint, cursor_digest, page_digest
from curation.sync.errors import SyncError
from curation.sync.fetch import Page

MAX_EMPTY_PAGES = 10  # in a row, each with a next cursor: the official registry sends none


class LoopGuard:
    """What one walk has followed and committed; a repeat stops the run before it is applied.

    It starts from the digests the checkpoint kept (the walk so far, capped) and remembers
    everything this run sees, so any loop is caught within one turn of it.
    """

    def __init__(self, cp: SyncCheckpoint) -> None:
        self._seen = set(cp.seen)
        self._empty = 0

    def check(self, cp: SyncCheckpoint, page: Page) -> tuple[str, ...]:
        """The digests this page adds once committed; SyncError if it repeats the walk."""
        number = cp.pages + 1
        added: list[str] = []
        keys = _page_keys(page.entries)
        if keys:
            self._empty = 0
            digest = page_digest(keys)
            if digest in self._seen:
                raise SyncError(f"upstream loops: page {number} of this walk repeats an earlier "
                                f"page (the same {len(keys)} entries); stopped")
            added.append(digest)
        elif page.next_cursor is not None:
            self._empty += 1
            if self._empty >= MAX_EMPTY_PAGES:
                raise SyncError(f"upstream sent {self._empty} empty pages in a row, each with a "
                                f"next cursor; stopped")
        if page.next_cursor is not None:
            digest = cursor_digest(page.next_cursor)
            if digest in self._seen or page.next_cursor == cp.cursor:
                raise SyncError(f"upstream loops: page {number} points to a cursor already "
                                f"followed in this walk; stopped")
            added.append(digest)
        return tuple(added)

    def commit(self, added: tuple[str, ...]) -> None:
        self._seen.update(added)


def _page_keys(entries: list[object]) -> list[str]:
    """The page's entries by name and version (by type when they have none)."""
    keys = []
    for entry in entries:
        server = entry.get("server", entry) if isinstance(entry, dict) else None
        if isinstance(server, dict):
            keys.append(json.dumps([server.get("name"), server.get("version")], default=str))
        else:
            keys.append(f"#{type(entry).__name__}")
    return keys
