"""Rows of the read API: frozen, and the database's fast path makes the same row."""

from __future__ import annotations

import dataclasses

import pytest

from serving.rows import FIELDS, EntryRow

VALUES = (7, "io.github.acme/db", "1.0.0", "{}", "active", "", "2025-01-02T03:04:05Z",
          "2025-01-02T03:04:05.12Z", "2025-01-02T03:04:05Z", True, "local", "0" * 64, None, True)


def test_of_makes_the_row_the_constructor_makes():
    row = EntryRow.of(VALUES)
    assert row == EntryRow(*VALUES)
    assert (row.overlaid, row.pinned) == (False, False)  # the defaults, left out
    assert EntryRow.of((*VALUES, False, True, True)) == EntryRow(*VALUES, overlaid=True, pinned=True)
    assert FIELDS[: len(VALUES)] == tuple(f.name for f in dataclasses.fields(EntryRow))[: len(VALUES)]


def test_rows_are_frozen():
    row = EntryRow.of(VALUES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.status = "deleted"  # type: ignore[misc]
