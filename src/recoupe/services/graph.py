"""Link graph use cases: keep the graph in step with the store, and query what a reader may see.

The graph of a workspace is built from the store (:mod:`recoupe.store.graph_source`), saved
under ``<workspace>/graph/`` with the store generation it comes from, and mapped back into
memory by every process that needs it. A reader sees the edges of the datasets they may
see, shared values held by at least two entities they may see, and names only from those
datasets; the edge mask that says so is computed once per set of visible datasets.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from recoupe.errors import ConfigError, NotFound
from recoupe.graph import algorithms, export
from recoupe.graph.data import EDGE_KINDS, GraphData, Int, Mask
from recoupe.graph.subgraph import EdgeFilter, Subgraph
from recoupe.security.reader import Reader
from recoupe.services.graph_filters import Filters, bounded, parse_filter
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.graph_source import build_graph
from recoupe.store.resolution import resolution_version

MAX_DEPTH = 6
MAX_CAP = 100_000
MAX_K = 20
MAX_TOP = 1_000
MAX_SAMPLE = 50
MASKS_KEPT = 8


_Key = frozenset[int] | None
"""Visible dataset codes as cache keys (None: every dataset)."""


@dataclass
class _Access:
    """What one set of visible datasets may see of a graph."""

    codes: Int | None
    """Visible dataset codes (None: every dataset)."""
    mask: Mask | None
    """Visible edges (None: every edge)."""

    @property
    def key(self) -> _Key:
        """What results derived for this access are cached under (None: every dataset,
        which is not the same as none of them)."""
        return None if self.codes is None else frozenset(self.codes.tolist())


@dataclass
class _State:
    """A graph and what was derived from it, for one store generation."""

    graph: GraphData
    lock: threading.Lock = field(default_factory=threading.Lock)
    access: OrderedDict[frozenset[int], _Access] = field(default_factory=OrderedDict)
    communities: dict[_Key, algorithms.Communities] = field(default_factory=dict)
    centrality: dict[tuple[_Key, str], tuple[Int, Any]] = field(default_factory=dict)


def _version(graph: GraphData) -> tuple[int, int]:
    return graph.generation, graph.resolution


class GraphService:
    """The link graph of one workspace; safe to share between threads."""

    def __init__(
        self, store: DuckDBStore, *, directory: Path | None = None, builder: Reader | None = None
    ) -> None:
        self.store = store
        self.directory = directory if directory is not None else store.path / "graph"
        self.builder = builder if builder is not None else Reader.system()
        self.cache_error: str | None = None
        self._scratch: Path | None = None
        self._state: _State | None = None
        self._build_lock = threading.Lock()
        self._compute_lock = threading.Lock()

    # -- keeping the graph up to date -------------------------------------------------------
    @contextmanager
    def _session(self) -> Iterator[DuckDBStore]:
        session = self.store.session()
        try:
            yield session
        finally:
            session.con.close()

    def _generation(self) -> tuple[int, int]:
        """(store generation, resolution changes): a graph built on older ones is stale."""
        with self._session() as session:
            return session.generation(), resolution_version(session)

    def graph(self) -> GraphData:
        """The graph of the store's current generation (built or loaded when needed).

        While another thread builds a newer graph, the one already loaded keeps answering.
        """
        return self._current().graph

    def _current(self) -> _State:
        generation = self._generation()
        state = self._state
        if state is not None and _version(state.graph) == generation:
            return state
        if not self._build_lock.acquire(blocking=state is None):
            assert state is not None
            return state
        try:
            state = self._state
            if state is None or _version(state.graph) != self._generation():
                state = _State(self._load_or_build(rebuild=False))
                self._state = state
            return state
        finally:
            self._build_lock.release()

    def refresh(self, *, rebuild: bool = False) -> GraphData:
        """Bring the graph up to the store's generation (``rebuild``: build it anew).

        The previous graph keeps answering until the new one is ready.
        """
        with self._build_lock:
            state = self._state
            if rebuild or state is None or _version(state.graph) != self._generation():
                state = _State(self._load_or_build(rebuild=rebuild))
                self._state = state
            return state.graph

    def status(self) -> dict[str, Any]:
        """Whether a graph is loaded, its generation and size, and whether it is stale."""
        generation = self._generation()
        state = self._state
        meta = GraphData.read_meta(self.directory)
        return {
            "loaded": state is not None,
            "generation": state.graph.generation if state is not None else None,
            "store_generation": generation[0],
            "resolution": state.graph.resolution if state is not None else None,
            "store_resolution": generation[1],
            "stale": state is None or _version(state.graph) != generation,
            "saved_generation": meta.get("generation") if meta is not None else None,
            "nodes": len(state.graph) if state is not None else None,
            "edges": state.graph.n_edges if state is not None else None,
            "cache_error": self.cache_error,
        }

    def _load_or_build(self, *, rebuild: bool) -> GraphData:
        """Load the saved graph when it is of the current generation, else build and save."""
        if not rebuild and (saved := self._saved()) is not None:
            return saved
        parent = self.directory.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            with (parent / f".{self.directory.name}.lock").open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # one process at a time builds and swaps
                if not rebuild and (saved := self._saved()) is not None:
                    return saved  # another process built it while we waited
                return self._build_and_swap(parent)
        except OSError as exc:  # a read-only workspace: build in the store's tmp folder
            self.cache_error = f"{self.directory}: the graph could not be saved ({exc})"
        scratch = Path(tempfile.mkdtemp(prefix="graph-", dir=self.store.tmp))
        with self._session() as session:
            graph = build_graph(session, scratch, self.builder)
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
        self._scratch = scratch
        return graph

    def _saved(self) -> GraphData | None:
        """The saved graph if it is of the store's current generation."""
        meta = GraphData.read_meta(self.directory)
        if (
            meta is None
            or (
                meta.get("generation"),
                meta.get("resolution", 0),
            )
            != self._generation()
        ):
            return None
        try:
            return GraphData.load(self.directory)
        except (OSError, ValueError):
            return None  # a damaged cache is rebuilt

    def _build_and_swap(self, parent: Path) -> GraphData:
        """Build into a folder beside the cache, then swap it in: a crash never leaves a
        half-written cache, and the graph being served keeps its (unlinked) files."""
        for leftover in parent.glob(f".{self.directory.name}-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        token = uuid.uuid4().hex
        fresh = parent / f".{self.directory.name}-{token}.new"
        with self._session() as session:
            build_graph(session, fresh, self.builder)
        old = parent / f".{self.directory.name}-{token}.old"
        if self.directory.exists():
            os.replace(self.directory, old)
        os.replace(fresh, self.directory)
        shutil.rmtree(old, ignore_errors=True)
        self.cache_error = None
        return GraphData.load(self.directory)

    # -- access ---------------------------------------------------------------------------
    def _access(self, state: _State, reader: Reader) -> _Access:
        with self._session() as session:
            names = session.visible_datasets(reader)
        graph = state.graph
        codes = graph.codes(names, "datasets")
        key = frozenset(codes.tolist())
        with state.lock:
            found = state.access.get(key)
            if found is not None:
                state.access.move_to_end(key)
                return found
        if len(key) == len(graph.datasets):
            access = _Access(None, None)
        else:
            access = _Access(codes, _mask(graph, codes))
        with state.lock:
            state.access[key] = access
            while len(state.access) > MASKS_KEPT:
                state.access.popitem(last=False)
        return access

    def _nodes(self, state: _State, access: _Access, ids: Sequence[str], name: str) -> Int:
        """Node indices of ``ids``; NotFound for any this reader may not see."""
        if isinstance(ids, str) or not ids:
            raise ConfigError(f"{name}: give at least one entity id")
        graph = state.graph
        found = np.array([graph.index_of(i) for i in ids], dtype=np.int64)
        if access.mask is not None:
            schemata, _ = graph.labels(found, access.codes)
            for node, node_id, schema in zip(found.tolist(), ids, schemata, strict=True):
                lo, hi = int(graph.indptr[node]), int(graph.indptr[node + 1])
                if schema is None and not access.mask[graph.adj_edge[lo:hi]].any():
                    raise NotFound(f"no node {node_id!r} in the link graph")
        return found

    def _filter(
        self, filters: Filters, more: Mapping[str, Any], access: _Access, graph: GraphData
    ) -> EdgeFilter:
        """The filter of ``filters`` and keyword filters, checked (ConfigError names the
        parameter; a dataset the reader may not see is NotFound)."""
        visible = set(graph.datasets)
        if access.codes is not None:
            visible = {graph.datasets[c] for c in access.codes.tolist()}
        return parse_filter(filters, more, visible, self.store.model)

    def in_graph(self, ids: Sequence[str]) -> list[str]:
        """The ids among ``ids`` that are nodes of the link graph, in their order."""
        graph = self._current().graph
        return [i for i in ids if graph.find(i) >= 0]

    def expand(
        self,
        reader: Reader,
        ids: Sequence[str],
        depth: int = 1,
        filters: Filters = None,
        cap: int = algorithms.DEFAULT_CAP,
        **more: Any,
    ) -> dict[str, Any]:
        """Nodes within ``depth`` links of ``ids`` and the edges between them.

        Filters (in ``filters`` or as keywords): ``schema``/``schemata``, ``kind``/``kinds``
        (edge, property, shared), ``dataset``/``datasets``, ``since`` and ``until``
        (YYYY-MM-DD). Beyond ``cap`` nodes the result says ``capped``.
        """
        bounded("depth", depth, 0, MAX_DEPTH)
        bounded("cap", cap, 1, MAX_CAP)
        state = self._current()
        access = self._access(state, reader)
        seeds = self._nodes(state, access, ids, "ids")
        where = self._filter(filters, more, access, state.graph)
        sub = algorithms.expand(
            state.graph, seeds, depth, where=where, cap=cap, edge_mask=access.mask
        )
        return {"generation": state.graph.generation, **sub.to_dict(state.graph, access.codes)}

    def paths(
        self, reader: Reader, a: str, b: str, k: int = 1, filters: Filters = None, **more: Any
    ) -> dict[str, Any]:
        """Up to ``k`` shortest paths between two entities (or shared values)."""
        bounded("k", k, 1, MAX_K)
        state = self._current()
        access = self._access(state, reader)
        ends = self._nodes(state, access, [a, b], "ids")
        where = self._filter(filters, more, access, state.graph)
        found = algorithms.k_shortest_paths(
            state.graph, int(ends[0]), int(ends[1]), k, where=where, edge_mask=access.mask
        )
        return {"generation": state.graph.generation, **found.to_dict(state.graph, access.codes)}

    def common(
        self,
        reader: Reader,
        ids: Sequence[str],
        filters: Filters = None,
        cap: int = algorithms.DEFAULT_CAP,
        **more: Any,
    ) -> dict[str, Any]:
        """What every one of ``ids`` (two or more) links to."""
        bounded("cap", cap, 1, MAX_CAP)
        if isinstance(ids, str) or len(set(ids)) < 2:
            raise ConfigError("ids: give at least two different entity ids")
        state = self._current()
        access = self._access(state, reader)
        nodes = self._nodes(state, access, ids, "ids")
        where = self._filter(filters, more, access, state.graph)
        sub = algorithms.common_neighbours(
            state.graph, nodes, where=where, edge_mask=access.mask, cap=cap
        )
        return {"generation": state.graph.generation, **sub.to_dict(state.graph, access.codes)}

    def _communities(self, state: _State, access: _Access) -> algorithms.Communities:
        key = access.key
        found = state.communities.get(key)
        if found is None:
            with self._compute_lock:  # one Leiden run at a time, and only once
                found = state.communities.get(key)
                if found is None:
                    found = algorithms.communities(state.graph, edge_mask=access.mask)
                    state.communities[key] = found
        return found

    def _members(
        self, state: _State, access: _Access, found: algorithms.Communities, community: int, n: int
    ) -> list[dict[str, Any]]:
        """Up to ``n`` members of a community, the most linked first."""
        return state.graph.node_records(found.members(community, n), access.codes)

    def communities(self, reader: Reader, top: int = 20, sample: int = 5) -> dict[str, Any]:
        """The ``top`` largest communities (Leiden, modularity) with sample members."""
        bounded("top", top, 1, MAX_TOP)
        bounded("sample", sample, 0, MAX_SAMPLE)
        state = self._current()
        access = self._access(state, reader)
        found = self._communities(state, access)
        listed = [
            {
                "community": c,
                "size": int(found.sizes[c]),
                "members": self._members(state, access, found, c, sample),
            }
            for c in range(min(top, len(found.sizes)))
        ]
        return {
            "generation": state.graph.generation,
            "count": len(found.sizes),
            "modularity": found.modularity,
            "communities": listed,
        }

    def community_of(self, reader: Reader, entity_id: str, sample: int = 5) -> dict[str, Any]:
        """The community of one entity (None when it has no visible link)."""
        bounded("sample", sample, 0, MAX_SAMPLE)
        state = self._current()
        access = self._access(state, reader)
        node = int(self._nodes(state, access, [entity_id], "id")[0])
        found = self._communities(state, access)
        community = int(found.membership[node])
        if community < 0:
            return {"generation": state.graph.generation, "id": entity_id, "community": None}
        return {
            "generation": state.graph.generation,
            "id": entity_id,
            "community": community,
            "size": int(found.sizes[community]),
            "members": self._members(state, access, found, community, sample),
        }

    def centrality(self, reader: Reader, measure: str = "degree", top: int = 20) -> dict[str, Any]:
        """The ``top`` most central nodes by ``measure`` (degree, pagerank, betweenness)."""
        if measure not in algorithms.MEASURES:
            raise ConfigError(f"measure: use one of {list(algorithms.MEASURES)} (got {measure!r})")
        bounded("top", top, 1, MAX_TOP)
        state = self._current()
        access = self._access(state, reader)
        key = (access.key, measure)
        found = state.centrality.get(key)
        if found is None:
            with self._compute_lock:
                found = state.centrality.get(key)
                if found is None:
                    found = algorithms.centrality(
                        state.graph, measure, MAX_TOP, edge_mask=access.mask
                    )
                    state.centrality[key] = found
        nodes, scores = found[0][:top], found[1][:top]
        records = state.graph.node_records(nodes, access.codes)
        for record, score in zip(records, scores.tolist(), strict=True):
            record["score"] = score
        return {
            "generation": state.graph.generation,
            "measure": measure,
            "approximate": measure == "betweenness",
            "nodes": records,
        }

    def export(
        self,
        reader: Reader,
        fmt: str,
        out: BinaryIO | Path,
        ids: Sequence[str] | None = None,
        depth: int = 1,
        filters: Filters = None,
        cap: int = MAX_CAP,
        **more: Any,
    ) -> dict[str, Any]:
        """Write the neighbourhood of ``ids`` (or all the reader may see) to ``out`` (a
        binary file object, or a path to write), as GEXF 1.3, GraphML or Cypher."""
        if fmt not in export.FORMATS:
            raise ConfigError(f"format: use one of {list(export.FORMATS)} (got {fmt!r})")
        bounded("depth", depth, 0, MAX_DEPTH)
        bounded("cap", cap, 1, MAX_CAP)
        state = self._current()
        access = self._access(state, reader)
        where = self._filter(filters, more, access, state.graph)
        sub: Subgraph | None = None
        mask = access.mask
        if ids is not None:
            seeds = self._nodes(state, access, ids, "ids")
            sub = algorithms.expand(state.graph, seeds, depth, where=where, cap=cap, edge_mask=mask)
        else:
            mask = where.mask(state.graph, mask)
        if isinstance(out, Path):
            out.parent.mkdir(parents=True, exist_ok=True)
            with out.open("wb") as sink:
                nodes, edges = export.write(
                    state.graph, fmt, sink, sub, edge_mask=mask, visible=access.codes
                )
        else:
            nodes, edges = export.write(
                state.graph, fmt, out, sub, edge_mask=mask, visible=access.codes
            )
        return {"generation": state.graph.generation, "format": fmt, "nodes": nodes, "edges": edges}


def _mask(graph: GraphData, codes: Int) -> Mask:
    """Edges of visible datasets, without shared values fewer than two visible entities hold."""
    mask = np.isin(graph.edge_dataset, codes)
    shared = np.flatnonzero(mask & (graph.edge_kind == EDGE_KINDS.index("shared")))
    values = graph.dst[shared].astype(np.int64)
    pairs = np.unique(values * len(graph) + graph.src[shared])
    holders = np.bincount(pairs // len(graph), minlength=len(graph)) if len(pairs) else None
    if holders is not None:
        mask[shared[holders[values] < 2]] = False
    return mask
