"""Search use cases: keep the index in step with the store, and search what a reader may see."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recoupe.errors import NotFound, OntologyError
from recoupe.search.index import SearchIndex, SearchResult
from recoupe.search.query import SearchQuery
from recoupe.security.reader import Reader
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.resolution import changes_since, resolution_version
from recoupe.store.search_source import document_batches


@dataclass(frozen=True)
class IndexReport:
    """What one refresh of the search index did."""

    documents: int
    generation: int
    full: bool
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "generation": self.generation,
            "full": self.full,
            "seconds": round(self.seconds, 2),
        }


class SearchService:
    """The search index of one workspace; safe to share between threads."""

    def __init__(self, workspace: Path) -> None:
        self.path = workspace / "index"
        self._index: SearchIndex | None = None
        self._write_lock = threading.Lock()
        self._things: list[str] | None = None

    def index(self) -> SearchIndex:
        if self._index is None:
            self._index = SearchIndex(self.path)
        return self._index

    def refresh(
        self,
        store: DuckDBStore,
        *,
        rebuild: bool = False,
        progress: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Index what the store gained since the index was last brought up to date.

        ``rebuild`` starts from an empty index. Searches keep answering from the last
        commit until this one is done.
        """
        started = time.monotonic()
        with self._write_lock:
            index = self._index or SearchIndex(self.path, create=True)
            self._index = index
            target = store.generation()
            current = index.generation
            resolution = resolution_version(store)
            full = rebuild or current == 0 or current > target or index.resolution > resolution
            if not full and current == target and index.resolution == resolution:
                return IndexReport(0, target, False, time.monotonic() - started)
            # merged or parted entities change documents' ids: those are indexed again
            moved: list[str] | None = []
            if not full and index.resolution != resolution:
                moved = changes_since(store, index.resolution)
                full = moved is None
            try:
                if full:
                    index.clear()
                elif moved:
                    index.delete(moved)
                batches = document_batches(
                    store, since=None if full else current, ids=() if full else moved or ()
                )
                count = index.add(
                    batches,
                    lambda names: store.common_schema(set(names)),
                    replace=not full,
                    progress=progress,
                )
                index.commit(target, resolution)
            except BaseException:
                index.rollback()
                raise
        return IndexReport(count, target, full, time.monotonic() - started)

    def is_stale(self, store: DuckDBStore) -> bool:
        try:
            index = self.index()
            return index.generation < store.generation() or index.resolution != resolution_version(
                store
            )
        except Exception:
            return True

    def search(self, store: DuckDBStore, reader: Reader, query: SearchQuery) -> SearchResult:
        """Search what ``reader`` may see."""
        visible = store.visible_datasets(reader)
        datasets = visible
        if query.datasets:
            unknown = [d for d in query.datasets if d not in visible]
            if unknown:
                raise NotFound(f"dataset={unknown[0]!r}: no such dataset")
            datasets = list(query.datasets)
        schemata: list[str] = []
        for name in query.schemata:
            schema = store.model.get(name)
            if schema is None:
                raise OntologyError(f"schema={name!r}: no such schema (see `recoupe ontology`)")
            schemata.extend(s.name for s in [schema, *schema.descendants])
        if self._things is None:
            self._things = sorted(s.name for s in store.model.schemata.values() if s.is_a("Thing"))
        return self.index().search(query, datasets, sorted(set(schemata)), prefer=self._things)
