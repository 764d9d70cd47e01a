"""The analysis operations over a local workspace, in the shape the HTTP API answers.

The command line uses this when no server runs on the workspace, and
:class:`recoupe.client.Client` when one does: both offer the same methods and return the
same JSON-ready dicts, so commands print the same thing either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recoupe.errors import NotFound
from recoupe.search.query import SearchQuery
from recoupe.security.reader import Reader
from recoupe.services import places, timeline
from recoupe.services.runtime import Runtime


class LocalBackend:
    """Analysis over a :class:`Runtime` for one reader."""

    def __init__(self, runtime: Runtime, reader: Reader) -> None:
        self.runtime = runtime
        self.reader = reader
        self.store = runtime.store

    def datasets(self) -> list[dict[str, Any]]:
        return [ds.__dict__ for ds in self.store.datasets(self.reader)]

    def runs(self, dataset: str | None = None) -> list[dict[str, Any]]:
        return [r.summary() for r in self.store.runs(self.reader, dataset)]

    def rejected(self, run_id: str, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        rows = self.store.rejected(self.reader, run_id, limit, offset)
        dropped = self.store.dropped(self.reader, run_id, limit, offset)
        return {
            "rejected_rows": [r.__dict__ for r in rows],
            "dropped_values": [d.__dict__ for d in dropped],
        }

    def export(self, out: Path, fmt: str = "ftm", dataset: str | None = None) -> dict[str, Any]:
        records = self.store.export(self.reader, fmt, out, dataset)
        return {"format": fmt, "file": str(out), "records": records}

    def entity(self, entity_id: str) -> dict[str, Any]:
        found = self.store.entity(self.reader, entity_id)
        if found is None:
            raise NotFound(f"no entity {entity_id!r}")
        return {**found.to_ftm(), "statements": [s.__dict__ for s in found.statements]}

    def search(self, q: str = "", **filters: Any) -> dict[str, Any]:
        query = SearchQuery.from_params(q, **filters)
        return self.runtime.search.search(self.store, self.reader, query).to_dict()

    # -- graph -----------------------------------------------------------------------------
    def expand(self, ids: str | list[str], depth: int = 1, **filters: Any) -> dict[str, Any]:
        seeds = [ids] if isinstance(ids, str) else list(ids)
        return self.runtime.graph.expand(self.reader, seeds, depth=depth, **filters)

    def paths(self, source: str, target: str, k: int = 1, **filters: Any) -> dict[str, Any]:
        return self.runtime.graph.paths(self.reader, source, target, k=k, **filters)

    def common(self, ids: list[str]) -> dict[str, Any]:
        return self.runtime.graph.common(self.reader, ids)

    def communities(self, top: int = 20) -> dict[str, Any]:
        return self.runtime.graph.communities(self.reader, top=top)

    def centrality(self, measure: str = "degree", top: int = 20) -> dict[str, Any]:
        return self.runtime.graph.centrality(self.reader, measure, top=top)

    def graph_export(
        self, out: Path, fmt: str, ids: list[str] | None = None, depth: int = 1
    ) -> dict[str, Any]:
        return self.runtime.graph.export(self.reader, fmt, out, ids=ids, depth=depth)

    # -- time and places -------------------------------------------------------------------
    def timeline(self, entity_id: str, **params: Any) -> dict[str, Any]:
        return timeline.entity_timeline(self.store, self.reader, entity_id, **params).to_dict()

    def near(self, entity_id: str, metres: float = 500, minutes: float = 30) -> dict[str, Any]:
        report = places.colocated(
            self.store, self.reader, entity_id, metres=metres, minutes=minutes
        )
        return report.to_dict()
