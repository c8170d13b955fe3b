"""No b-tree index row can overflow: one long value must not fail the insert of its page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_no_btree_index_row_can_overflow(db):
    """Every b-tree index on our tables fits its worst-case row in a b-tree page.

    A column counts at its declared bound (4 bytes a character); the text columns of an index
    may instead be bounded together by a validated CHECK on their summed octet_length. An
    unbounded one fails the insert of a whole page on one long incompressible value.
    """
    limit = 2704  # BTMaxItemSize for 8 kB pages
    ours = "^(registry|curation|signing)_"
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT t.relname, i.relname, a.attname, a.attlen, a.atttypmod,
                   format_type(a.atttypid, a.atttypmod)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am am ON am.oid = i.relam
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey)
            WHERE am.amname = 'btree' AND t.relnamespace = 'public'::regnamespace
              AND t.relname ~ %s""", [ours])
        columns = cursor.fetchall()
        cursor.execute("""
            SELECT t.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.conrelid
            WHERE c.contype = 'c' AND c.convalidated AND t.relname ~ %s""", [ours])
        checks = cursor.fetchall()
    indexes: dict[tuple[str, str], dict[str, int | None]] = {}
    for table, index, column, attlen, typmod, _kind in columns:
        worst = attlen if attlen > 0 else (4 * (typmod - 4) if typmod > 4 else None)
        indexes.setdefault((table, index), {})[column] = worst
    too_big: dict[str, Any] = {}
    for (table, index), cols in indexes.items():
        together, bound = _octet_bound(checks, table, set(cols))
        sizes = [w for c, w in cols.items() if c not in together]
        if None in sizes:
            too_big[index] = f"unbounded: {sorted(c for c, w in cols.items() if w is None)}"
        elif sum(sizes) + bound + 8 * len(cols) + 16 > limit:
            too_big[index] = sum(sizes) + bound
    assert not too_big, too_big


def _octet_bound(checks: list[tuple[str, str]], table: str, columns: set[str]
                 ) -> tuple[set[str], int]:
    """The widest CHECK on the summed octet_length of some of these columns, and its bound."""
    best: tuple[set[str], int] = (set(), 0)
    for name, definition in checks:
        found = set(re.findall(r"octet_length\(\(?(\w+)", definition))
        bound = re.search(r"<= (\d+)\)*$", definition)
        if name == table and bound and found and found <= columns and len(found) > len(best[0]):
            best = (found, int(bound.group(1)))
    return best
