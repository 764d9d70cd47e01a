"""The analysis operations over a local workspace, in the shape the HTTP API answers.

The command line uses this when no server runs on the workspace, and
:class:`recoupe.client.Client` when one does: both offer the same methods and return the
same JSON-ready dicts, so commands print the same thing either way.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from recoupe.errors import NotFound
from recoupe.search.query import SearchQuery
from recoupe.security.audit import AuditLog
from recoupe.security.reader import Reader
from recoupe.services import places, timeline
from recoupe.services.marking import export_marking, marking_of
from recoupe.services.runtime import Runtime

P = ParamSpec("P")
R = TypeVar("R")
_COUNTED = ("results", "nodes", "items", "neighbours", "records")


def audited(method: Callable[P, R]) -> Callable[P, R]:
    """Record each call in the workspace's audit log: who, what, which ids, how many."""

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        self = args[0]
        assert isinstance(self, LocalBackend)
        result = method(*args, **kwargs)
        ids = [a for a in args[1:] if isinstance(a, str)]
        ids += [i for a in args[1:] if isinstance(a, list) for i in a if isinstance(i, str)]
        count: int | None = None
        if isinstance(result, list):
            count = len(result)
        elif isinstance(result, dict):
            for key in _COUNTED:
                value = result.get(key)
                if value is not None:
                    count = value if isinstance(value, int) else len(value)
                    break
        options = {k: v for k, v in kwargs.items() if v not in (None, (), [])}
        searched = method.__name__ == "search"
        words = f"{ids[0]!r} " if searched and ids else ""
        self.audit.append(
            actor=self.reader.name,
            origin="local",
            action=method.__name__,
            entities=[] if searched else ids,
            query=f"{words}{options}" if words or options else None,
            results=count,
        )
        return result

    return wrapper


class LocalBackend:
    """Analysis over a :class:`Runtime` for one reader; every call is audited."""

    def __init__(self, runtime: Runtime, reader: Reader) -> None:
        self.runtime = runtime
        self.reader = reader
        self.store = runtime.store
        self.audit = AuditLog(runtime.workspace / "audit.db")

    def close(self) -> None:
        self.audit.close()

    @audited
    def datasets(self) -> list[dict[str, Any]]:
        return [ds.__dict__ for ds in self.store.datasets(self.reader)]

    @audited
    def runs(self, dataset: str | None = None) -> list[dict[str, Any]]:
        return [r.summary() for r in self.store.runs(self.reader, dataset)]

    @audited
    def rejected(self, run_id: str, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        rows = self.store.rejected(self.reader, run_id, limit, offset)
        dropped = self.store.dropped(self.reader, run_id, limit, offset)
        return {
            "rejected_rows": [r.__dict__ for r in rows],
            "dropped_values": [d.__dict__ for d in dropped],
        }

    @audited
    def export(self, out: Path, fmt: str = "ftm", dataset: str | None = None) -> dict[str, Any]:
        records = self.store.export(self.reader, fmt, out, dataset)
        marking = export_marking(self.store, self.reader, dataset)
        return {"format": fmt, "file": str(out), "records": records, **marking.to_dict()}

    @audited
    def entity(self, entity_id: str) -> dict[str, Any]:
        found = self.store.entity(self.reader, entity_id)
        if found is None:
            raise NotFound(f"no entity {entity_id!r}")
        marking = marking_of(self.store, self.reader, found.datasets)
        return {
            **found.to_ftm(),
            **marking.to_dict(),
            "statements": [s.__dict__ for s in found.statements],
        }

    @audited
    def search(self, q: str = "", **filters: Any) -> dict[str, Any]:
        query = SearchQuery.from_params(q, **filters)
        return self.runtime.search.search(self.store, self.reader, query).to_dict()

    # -- graph -----------------------------------------------------------------------------
    @audited
    def expand(self, ids: str | list[str], depth: int = 1, **filters: Any) -> dict[str, Any]:
        seeds = [ids] if isinstance(ids, str) else list(ids)
        return self.runtime.graph.expand(self.reader, seeds, depth=depth, **filters)

    @audited
    def paths(self, source: str, target: str, k: int = 1, **filters: Any) -> dict[str, Any]:
        return self.runtime.graph.paths(self.reader, source, target, k=k, **filters)

    @audited
    def common(self, ids: list[str]) -> dict[str, Any]:
        return self.runtime.graph.common(self.reader, ids)

    @audited
    def communities(self, top: int = 20) -> dict[str, Any]:
        return self.runtime.graph.communities(self.reader, top=top)

    @audited
    def centrality(self, measure: str = "degree", top: int = 20) -> dict[str, Any]:
        return self.runtime.graph.centrality(self.reader, measure, top=top)

    @audited
    def graph_export(
        self, out: Path, fmt: str, ids: list[str] | None = None, depth: int = 1
    ) -> dict[str, Any]:
        return self.runtime.graph.export(self.reader, fmt, out, ids=ids, depth=depth)

    # -- time and places -------------------------------------------------------------------
    @audited
    def timeline(self, entity_id: str, **params: Any) -> dict[str, Any]:
        return timeline.entity_timeline(self.store, self.reader, entity_id, **params).to_dict()

    @audited
    def near(self, entity_id: str, metres: float = 500, minutes: float = 30) -> dict[str, Any]:
        report = places.colocated(
            self.store, self.reader, entity_id, metres=metres, minutes=minutes
        )
        return report.to_dict()
