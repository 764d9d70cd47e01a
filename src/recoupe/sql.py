"""Small helpers to write SQL text safely."""

from __future__ import annotations

from collections.abc import Sequence


def quote_ident(name: str) -> str:
    """A SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def values_table(rows: Sequence[tuple[str, ...]], names: str) -> str:
    """A subquery over literal rows with the given column names (typed even when empty)."""
    if not rows:
        width = names.count(",") + 1
        nulls = ", ".join(["NULL::VARCHAR"] * width)
        return f"(SELECT * FROM (VALUES ({nulls})) v({names}) WHERE false)"
    body = ", ".join("(" + ", ".join(quote_str(x) for x in row) + ")" for row in rows)
    return f"(SELECT * FROM (VALUES {body}) v({names}))"
