"""A workspace opened for analysis: the store, its search index, graph and derived places.

The command line opens one for the length of a command; the server opens one for its
lifetime and hands each request a :meth:`Runtime.session` (its own cursor on the store).
Everything derived from the store (places, search index, graph) is brought up to date by
:meth:`Runtime.refresh` after every import run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from recoupe.config import Settings
from recoupe.errors import RecoupeError
from recoupe.services.graph import GraphService
from recoupe.services.jobs import JobQueue
from recoupe.services.search import SearchService
from recoupe.services.workspace import open_workspace
from recoupe.store.base import Progress
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.places import places_stale, refresh_places

log = logging.getLogger("recoupe.refresh")


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh of the derived data did, and how long each part took."""

    generation: int
    compact_seconds: float | None
    places_seconds: float | None
    index: dict[str, Any]
    graph_seconds: float | None
    errors: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "generation": self.generation,
            "compact_seconds": self.compact_seconds,
            "places_seconds": self.places_seconds,
            "index": self.index,
            "graph_seconds": self.graph_seconds,
            "errors": self.errors,
        }


class Runtime:
    """One workspace opened for reading and writing, shared by threads."""

    def __init__(self, settings: Settings, *, read_only: bool = False) -> None:
        self.settings = settings
        self.store = open_workspace(settings, create=not read_only, read_only=read_only)
        self.read_only = read_only
        self.search = SearchService(settings.workspace)
        self.graph = GraphService(self.store)
        self._refresh_lock = threading.Lock()

    @property
    def workspace(self) -> Path:
        return self.settings.workspace

    @cached_property
    def jobs(self) -> JobQueue:
        """Background work (ingest runs), one job at a time."""
        return JobQueue()

    def session(self) -> DuckDBStore:
        """The store on a cursor of its own, for one request or one thread."""
        return self.store.session()

    def close(self) -> None:
        if "jobs" in self.__dict__:
            self.jobs.close()
        self.store.close()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def refresh(self, progress: Progress | None = None, *, rebuild: bool = False) -> RefreshReport:
        """Bring places, the search index and the graph up to the store's generation.

        First the statements are compacted (put in entity order) when many were added since
        the last time, so entity lookups stay fast as the store grows. A part that fails
        (out of memory, say) is reported in ``errors`` and the others still run: the
        imported data itself is already committed and safe.
        """
        seconds: dict[str, float | None] = {"compact": None, "places": None, "graph": None}
        errors: dict[str, str] = {}
        index: dict[str, Any] = {}

        def part(name: str, stage: str, work: Callable[[], object]) -> None:
            if progress is not None:
                progress(stage, 0, 1)
            started = time.monotonic()
            try:
                work()
            except RecoupeError as exc:
                errors[name] = str(exc)
                log.error("%s failed: %s", stage, exc)
                return
            seconds[name] = round(time.monotonic() - started, 2)
            if progress is not None:
                progress(stage, 1, 1)

        with self._refresh_lock:
            store = self.session()
            generation = store.generation()
            if not self.read_only and (rebuild or store.needs_compaction()):
                part("compact", "compacting statements", store.compact)
            if not self.read_only and (rebuild or places_stale(store)):
                part("places", "deriving places", lambda: refresh_places(store))

            def indexed(count: int) -> None:
                if progress is not None:
                    progress("indexing for search", count, max(count, 1))

            def search() -> None:
                index.update(
                    self.search.refresh(store, rebuild=rebuild, progress=indexed).to_dict()
                )

            part("index", "indexing for search", search)
            part("graph", "building the link graph", lambda: self.graph.refresh(rebuild=rebuild))
        return RefreshReport(
            generation, seconds["compact"], seconds["places"], index, seconds["graph"], errors
        )

    def ensure_fresh(self) -> None:
        """Refresh only when something is stale (for read commands on a local workspace)."""
        store = self.session()
        if self.search.is_stale(store) or (not self.read_only and places_stale(store)):
            self.refresh()
