"""Contact tracing over the store: `Case` entities and the `Transmission` links between
them, read as the reader may see them, turned into a transmission forest.

Cases and transmissions are ordinary entities (ingested by a mapping like any other
source), so search, the entity view, the graph (expand, paths between two cases) and
exports show them too; this module answers the questions only trees answer: chains,
generations, super-spreaders and serial intervals.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from recoupe.errors import ConfigError, NotFound
from recoupe.health.tracing import Forest, forest
from recoupe.security.reader import Reader
from recoupe.store.duckdb import DuckDBStore


def transmission_forest(
    store: DuckDBStore, reader: Reader, dataset: str | None = None
) -> tuple[Forest, dict[str, dict[str, Any]]]:
    """The forest of the cases ``reader`` may see (of one dataset, or all), and each case's
    caption, case number and onset, by entity id."""
    scope = store.scope_sql(reader, dataset)
    rows = store.con.execute(
        f"""
        SELECT entity_id,
               min(value) FILTER (WHERE prop = 'caseNumber') AS number,
               min(value) FILTER (WHERE prop = 'name') AS name,
               min(value) FILTER (WHERE prop = 'startDate') AS onset
        FROM statements WHERE schema = 'Case' AND ({scope})
        GROUP BY entity_id HAVING count(*) FILTER (WHERE prop = 'startDate') > 0
        ORDER BY entity_id
        """
    ).fetchall()
    if not rows:
        raise NotFound(
            "no case with an onset date is visible" + (f" in {dataset}" if dataset else "")
        )
    index = {r[0]: i for i, r in enumerate(rows)}
    links = store.con.execute(
        f"""
        SELECT entity_id,
               min(value) FILTER (WHERE prop = 'infector') AS infector,
               min(value) FILTER (WHERE prop = 'infectee') AS infectee
        FROM statements WHERE schema = 'Transmission' AND ({scope})
        GROUP BY entity_id
        """
    ).fetchall()
    parent = np.full(len(rows), -1, dtype=np.int64)
    for link_id, infector, infectee in links:
        if infector not in index or infectee not in index:
            continue  # a case the reader may not see, or without onset: no link
        i = index[infectee]
        if parent[i] >= 0 and parent[i] != index[infector]:
            raise ConfigError(
                f"case {rows[i][1] or infectee} has two infectors (transmission {link_id})"
            )
        parent[i] = index[infector]
    origin = min(date.fromisoformat(r[3][:10]) for r in rows)
    onset = [(date.fromisoformat(r[3][:10]) - origin).days for r in rows]
    found = forest([r[0] for r in rows], parent.tolist(), onset)
    cases = {
        r[0]: {"entity_id": r[0], "case": r[1], "caption": r[2], "onset": r[3][:10]} for r in rows
    }
    return found, cases


def transmission_report(
    store: DuckDBStore, reader: Reader, dataset: str | None = None, top: int = 10
) -> dict[str, Any]:
    """The forest's figures, with case numbers instead of entity ids."""
    found, cases = transmission_forest(store, reader, dataset)

    def label(entity_id: str) -> str:
        return str(cases[entity_id]["case"] or entity_id)

    summary = found.summary()
    summary["roots"] = [
        {**cases[found.ids[r]], "tree_size": int(found.sizes[t])} for t, r in enumerate(found.roots)
    ]
    summary["super_spreaders"] = [
        {**cases[c], "infected": n} for c, n in found.super_spreaders(top)
    ]
    deepest = int(np.argmax(found.generation))
    summary["longest_chain"] = [label(found.ids[i]) for i in found.chain(deepest)]
    return summary


def chain(store: DuckDBStore, reader: Reader, entity_id: str) -> list[dict[str, Any]]:
    """Who infected whom, from the root of a case's tree down to the case."""
    found, cases = transmission_forest(store, reader)
    if entity_id not in cases:
        raise NotFound(f"no visible case {entity_id}")
    steps = found.chain(found.ids.index(entity_id))
    return [
        {
            **cases[found.ids[i]],
            "generation": int(found.generation[i]),
            "serial_interval": None
            if np.isnan(found.serial_interval[i])
            else float(found.serial_interval[i]),
        }
        for i in steps
    ]
