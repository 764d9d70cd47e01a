"""SQL steps of an import run shared by its stages: cleaning, value selection, records.

The staging tables they read are those of :mod:`recoupe.store.duckdb_import`:
``__staged`` (values already clean), ``__clean`` (values cleaned through ``__cache``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from recoupe.mapping.clean import Cleaner, clean_distinct
from recoupe.mapping.compile import QueryPlan, Slot
from recoupe.sql import quote_ident, quote_str
from recoupe.store.base import Progress


@contextmanager
def watch_progress(
    con: duckdb.DuckDBPyConnection, stage: str, progress: Progress, every: float = 0.5
) -> Iterator[None]:
    """Report the engine's progress (percent) on the statements run inside the block."""
    stop = threading.Event()

    def poll() -> None:
        while not stop.wait(every):
            done = con.query_progress()
            if done >= 0:
                progress(stage, int(done), 100)

    progress(stage, 0, 100)
    watcher = threading.Thread(target=poll, name="recoupe-progress", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()
    progress(stage, 100, 100)


def clean_new_values(con: duckdb.DuckDBPyConnection, plan: QueryPlan, progress: Progress) -> None:
    """Clean, once, every distinct raw value of this chunk not in ``__cache`` yet."""
    if not plan.cleaners:
        return
    new = con.execute(
        "SELECT DISTINCT l.cleaner, s.raw FROM __staged s JOIN __slots l ON l.slot = s.slot "
        "ANTI JOIN __cache c ON c.cleaner = l.cleaner AND c.raw = s.raw "
        "WHERE NOT s.fast AND s.raw IS NOT NULL AND l.cleaner IS NOT NULL"
    ).to_arrow_table()
    if new.num_rows == 0:
        return
    cleaners = {c.id: c for c in plan.cleaners}
    by_cleaner: dict[str, list[str]] = {}
    for cid, raw in zip(
        new.column("cleaner").to_pylist(), new.column("raw").to_pylist(), strict=True
    ):
        by_cleaner.setdefault(cid, []).append(raw)
    done = 0
    for cid, raws in by_cleaner.items():
        cleaner: Cleaner = cleaners[cid]
        values, reasons = clean_distinct(cleaner, raws)
        batch = pa.table(
            {
                "cleaner": pa.array([cid] * len(raws), pa.string()),
                "raw": pa.array(raws, pa.string()),
                "value": pa.array(values, pa.string()),
                "reason": pa.array([r or None for r in reasons], pa.string()),
            }
        )
        con.register("__cleaned", batch)
        con.execute("INSERT INTO __cache SELECT * FROM __cleaned")
        con.unregister("__cleaned")
        done += len(raws)
        progress("cleaning distinct values", done, new.num_rows)


def slot_values(slots: list[Slot]) -> str:
    """The clean values of these slots with their schema and property, one row each."""
    ids = ", ".join(str(s.slot) for s in slots)
    schema = "CASE slot " + " ".join(f"WHEN {s.slot} THEN {quote_str(s.schema)}" for s in slots)
    prop = "CASE slot " + " ".join(f"WHEN {s.slot} THEN {quote_str(s.prop)}" for s in slots)
    return (
        f"(SELECT entity_id, {schema} END AS schema, {prop} END AS prop, raw AS value, "
        f"NULL::VARCHAR AS original_value, __row FROM __staged WHERE slot IN ({ids}) "
        f"UNION ALL SELECT entity_id, {schema} END, {prop} END, value, "
        f"CASE WHEN raw <> value THEN raw END, __row FROM __clean "
        f"WHERE value IS NOT NULL AND slot IN ({ids}))"
    )


def record_sql(columns: tuple[str, ...]) -> str:
    """The original record of a source row as a JSON object (``s`` is the source table)."""
    if not columns:
        return "'{}'"
    fields = ", ".join(f"{quote_str(c)}: s.{quote_ident(c)}" for c in columns)
    return f"to_json({{{fields}}})::VARCHAR"
