"""The link graph as arrays: nodes, edges, labels per dataset and a two-way adjacency index.

Nodes are numbered in the byte order of their ids, so an id is found by binary search and
no dictionary of millions of strings is ever built. Edges keep their direction (``src`` →
``dst``); the adjacency index (CSR: ``indptr``, ``adj_node``, ``adj_edge``) lists every
edge under both of its ends, neighbours in ascending order within each node.

A node's schema and caption are stored once per dataset that describes it (the *label*
rows), so a reader who may not see a dataset never sees the name it gives. Value nodes
(a phone number, an IBAN shared by several records) have one label row valid for every
reader: the value itself.

On disk: see :mod:`recoupe.graph.files`; :meth:`GraphData.load` maps the files into memory.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from recoupe.errors import NotFound
from recoupe.graph import files
from recoupe.graph.arrays import (
    Int,
    IntArray,
    Mask,
    adjacency,
    ragged,
    sorted_unique,
    unique_nodes,
)

if TYPE_CHECKING:  # igraph is imported where it is used: it takes 0.8 s to load
    import igraph as ig

__all__ = [
    "ANY_DATASET",
    "EDGE_KINDS",
    "NODE_KINDS",
    "NO_DATE",
    "GraphData",
    "GraphTables",
    "Int",
    "IntArray",
    "Mask",
    "NodeNotFound",
    "iso_days",
    "ragged",
    "sorted_unique",
    "unique_nodes",
]

NO_DATE = -(2**31)
"""Days since 1970-01-01 of an unknown date (negative days are real dates before 1970)."""
EDGE_KINDS = ("edge", "property", "shared")
NODE_KINDS = ("entity", "value")
ANY_DATASET = -1
"""The dataset code of label rows every reader may see (value nodes)."""


class NodeNotFound(NotFound):
    """An id that is no node of the link graph (or not one this reader may see)."""

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        super().__init__(f"no node {node_id!r} in the link graph")


@dataclass
class GraphTables:
    """The columns of a graph held in memory, for :meth:`GraphData.build` (a store writes
    its columns to disk instead: :class:`~recoupe.graph.files.GraphWriter`).

    ``node_ids`` must be sorted by their UTF-8 bytes, ``label_node`` ascending; codes index
    ``schemata``, ``props`` and ``datasets`` (-1: none); dates are days since 1970-01-01
    or :data:`NO_DATE`.
    """

    generation: int
    node_ids: pa.Array
    node_kind: npt.NDArray[np.int8]
    node_schema: npt.NDArray[np.int16]
    label_node: npt.NDArray[np.int32]
    label_dataset: npt.NDArray[np.int16]
    label_schema: npt.NDArray[np.int16]
    label_caption: pa.Array
    src: npt.NDArray[np.int32]
    dst: npt.NDArray[np.int32]
    edge_kind: npt.NDArray[np.int8]
    edge_schema: npt.NDArray[np.int16]
    edge_prop: npt.NDArray[np.int16]
    edge_start: npt.NDArray[np.int32]
    edge_end: npt.NDArray[np.int32]
    edge_dataset: npt.NDArray[np.int16]
    edge_entity: pa.Array
    schemata: list[str]
    props: list[str]
    datasets: list[str]


class GraphData:
    """Nodes, edges, labels and adjacency of the link graph at one store generation."""

    def __init__(self, arrays: dict[str, Any], meta: dict[str, Any]) -> None:
        self.generation = int(meta["generation"])
        self.resolution = int(meta.get("resolution", 0))
        """How many changes of the canonical mapping (merged entities) the graph includes."""
        self.schemata: list[str] = list(meta["schemata"])
        self.props: list[str] = list(meta["props"])
        self.datasets: list[str] = list(meta["datasets"])
        self.node_ids: pa.Array = arrays["node_ids"]
        self.label_caption: pa.Array = arrays["label_caption"]
        self.edge_entity: pa.Array = arrays["edge_entity"]
        self.node_kind: npt.NDArray[np.int8] = arrays["node_kind"]
        self.node_schema: npt.NDArray[np.int16] = arrays["node_schema"]
        self.label_ptr: Int = arrays["label_ptr"]
        self.label_dataset: npt.NDArray[np.int16] = arrays["label_dataset"]
        self.label_schema: npt.NDArray[np.int16] = arrays["label_schema"]
        self.src: npt.NDArray[np.int32] = arrays["src"]
        self.dst: npt.NDArray[np.int32] = arrays["dst"]
        self.edge_kind: npt.NDArray[np.int8] = arrays["edge_kind"]
        self.edge_schema: npt.NDArray[np.int16] = arrays["edge_schema"]
        self.edge_prop: npt.NDArray[np.int16] = arrays["edge_prop"]
        self.edge_start: npt.NDArray[np.int32] = arrays["edge_start"]
        self.edge_end: npt.NDArray[np.int32] = arrays["edge_end"]
        self.edge_dataset: npt.NDArray[np.int16] = arrays["edge_dataset"]
        self.indptr: Int = arrays["indptr"]
        self.adj_node: npt.NDArray[np.int32] = arrays["adj_node"]
        self.adj_edge: npt.NDArray[np.int32] = arrays["adj_edge"]
        offsets = self.node_ids.buffers()[1]
        start = self.node_ids.offset
        self._offsets = np.frombuffer(offsets, dtype=np.int64)[start : start + len(self) + 1]
        data = self.node_ids.buffers()[2]
        self._data = memoryview(data if data is not None else b"")
        self._lock = threading.Lock()
        self._igraph: ig.Graph | None = None

    # -- building and files ---------------------------------------------------------------
    @classmethod
    def build(cls, tables: GraphTables) -> GraphData:
        """Index columns held in memory: the adjacency and the label row ranges."""
        n = len(tables.node_ids)
        node_ids = files.large_strings(tables.node_ids)
        if n > 1 and not _sorted(node_ids):
            raise ValueError("node ids must be sorted by their bytes")
        indptr, adj_node, adj_edge = adjacency(tables.src, tables.dst, n)
        label_ptr = np.searchsorted(tables.label_node, np.arange(n + 1)).astype(np.int64)
        arrays: dict[str, Any] = {
            "node_ids": node_ids,
            "label_caption": files.large_strings(tables.label_caption),
            "edge_entity": files.large_strings(tables.edge_entity),
            "label_ptr": label_ptr,
            "indptr": indptr,
            "adj_node": adj_node,
            "adj_edge": adj_edge,
        }
        for name in files.NUMERIC:
            if name not in arrays:
                arrays[name] = np.ascontiguousarray(getattr(tables, name))
        meta = {
            "generation": tables.generation,
            "schemata": tables.schemata,
            "props": tables.props,
            "datasets": tables.datasets,
        }
        return cls(arrays, meta)

    def save(self, directory: Path) -> None:
        """Write every array, then ``meta.json``, into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        for name in files.NUMERIC:
            np.save(directory / f"{name}.npy", np.asarray(getattr(self, name)))
        for name in files.STRINGS:
            files.save_strings(directory, name, getattr(self, name))
        meta = {
            "generation": self.generation,
            "resolution": self.resolution,
            "nodes": len(self),
            "edges": self.n_edges,
            "schemata": self.schemata,
            "props": self.props,
            "datasets": self.datasets,
        }
        files.write_meta(directory, meta)

    @staticmethod
    def read_meta(directory: Path) -> dict[str, Any] | None:
        """The ``meta.json`` of a saved graph, or None when there is none we can read."""
        return files.read_meta(directory)

    @classmethod
    def load(cls, directory: Path) -> GraphData:
        """Map a saved graph into memory (arrays are read-only)."""
        arrays, meta = files.load_arrays(directory)
        return cls(arrays, meta)

    def ordered(self) -> bool:
        """Whether node ids are sorted by their bytes (as :meth:`find` needs)."""
        return len(self) < 2 or _sorted(self.node_ids)

    # -- nodes ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.src)

    def degree(self) -> Int:
        """Edges at each node (both directions; a self-loop counts twice)."""
        return np.diff(self.indptr)

    def find(self, node_id: str) -> int:
        """The index of ``node_id``, or -1 (binary search over the sorted ids)."""
        key = node_id.encode("utf-8")
        offsets, data = self._offsets, self._data
        lo, hi = 0, len(self)
        while lo < hi:
            mid = (lo + hi) // 2
            if bytes(data[offsets[mid] : offsets[mid + 1]]) < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self) and bytes(data[offsets[lo] : offsets[lo + 1]]) == key:
            return lo
        return -1

    def index_of(self, node_id: str) -> int:
        """The index of ``node_id``; :class:`NodeNotFound` when there is no such node."""
        found = self.find(node_id)
        if found < 0:
            raise NodeNotFound(node_id)
        return found

    def indices_of(self, node_ids: list[str]) -> Int:
        return np.array([self.index_of(i) for i in node_ids], dtype=np.int64)

    def ids(self, nodes: IntArray) -> list[str]:
        return [str(x) for x in self.node_ids.take(pa.array(np.asarray(nodes))).to_pylist()]

    def schema_name(self, code: int) -> str | None:
        return self.schemata[code] if 0 <= code < len(self.schemata) else None

    def codes(self, names: list[str], table: str) -> Int:
        """Codes of ``names`` in the ``schemata``, ``props`` or ``datasets`` table."""
        known: list[str] = getattr(self, table)
        return np.array([known.index(n) for n in names if n in known], dtype=np.int64)

    def labels(
        self, nodes: IntArray, visible: IntArray | None = None
    ) -> tuple[list[str | None], list[str | None]]:
        """(schema, caption) of each node as ``visible`` dataset codes describe it.

        With every dataset of a node visible, its schema is the one all of them share;
        otherwise the first visible dataset's. A node no visible dataset describes has
        neither (it is still shown by its id when a visible edge reaches it).
        """
        nodes = np.asarray(nodes, dtype=np.int64)
        lo = self.label_ptr[nodes]
        count = self.label_ptr[nodes + 1] - lo
        rows = ragged(lo, count)
        owner = np.repeat(np.arange(len(nodes)), count)
        datasets = self.label_dataset[rows]
        ok = np.ones(len(rows), dtype=bool)
        if visible is not None:
            ok = (datasets == ANY_DATASET) | np.isin(datasets, np.asarray(visible))
        rows, owner = rows[ok], owner[ok]
        holders, first = np.unique(owner, return_index=True)
        schema = np.full(len(nodes), -1, dtype=np.int64)
        schema[holders] = self.label_schema[rows[first]]
        every = np.bincount(owner, minlength=len(nodes)) == count
        schema = np.where(every & (count > 0), self.node_schema[nodes], schema)
        captions: list[str | None] = [None] * len(nodes)
        taken = self.label_caption.take(pa.array(rows[first])).to_pylist()
        for holder, caption in zip(holders.tolist(), taken, strict=True):
            captions[holder] = caption or None
        return [self.schema_name(int(c)) for c in schema], captions

    def node_records(
        self, nodes: IntArray, visible: IntArray | None = None
    ) -> list[dict[str, Any]]:
        """``{"id", "kind", "schema", "caption"}`` for each node (caption falls back to id)."""
        ids = self.ids(nodes)
        schemata, captions = self.labels(nodes, visible)
        kinds = self.node_kind[np.asarray(nodes, dtype=np.int64)].tolist()
        return [
            {"id": i, "kind": NODE_KINDS[k], "schema": s, "caption": c if c is not None else i}
            for i, k, s, c in zip(ids, kinds, schemata, captions, strict=True)
        ]

    def edge_records(self, edges: IntArray) -> list[dict[str, Any]]:
        """``{"source", "target", "schema", "kind", "prop", "entity_id", "start", "end",
        "dataset"}`` for each edge (dates as ISO days or None)."""
        edges = np.asarray(edges, dtype=np.int64)
        sources = self.ids(self.src[edges])
        targets = self.ids(self.dst[edges])
        entities = self.edge_entity.take(pa.array(edges)).to_pylist()
        columns = zip(
            sources,
            targets,
            self.edge_schema[edges].tolist(),
            self.edge_kind[edges].tolist(),
            self.edge_prop[edges].tolist(),
            entities,
            iso_days(self.edge_start[edges]),
            iso_days(self.edge_end[edges]),
            self.edge_dataset[edges].tolist(),
            strict=True,
        )
        return [
            {
                "source": s,
                "target": t,
                "schema": self.schema_name(sc),
                "kind": EDGE_KINDS[k],
                "prop": self.props[p] if p >= 0 else None,
                "entity_id": e or None,
                "start": start,
                "end": end,
                "dataset": self.datasets[d] if d >= 0 else None,
            }
            for s, t, sc, k, p, e, start, end, d in columns
        ]

    # -- igraph ---------------------------------------------------------------------------
    def igraph(self) -> ig.Graph:
        """The whole graph as an undirected igraph Graph (built once, edge ids = ours)."""
        with self._lock:
            if self._igraph is None:
                pairs = np.column_stack((self.src, self.dst)).astype(np.int64)
                import igraph as ig

                self._igraph = ig.Graph(n=len(self), edges=pairs, directed=False)
            return self._igraph


def iso_days(days: IntArray) -> list[str | None]:
    """ISO dates of day numbers since 1970-01-01 (None for :data:`NO_DATE`)."""
    days = np.asarray(days, dtype=np.int64)
    text = np.datetime_as_string(days.astype("datetime64[D]"), unit="D").tolist()
    return [None if d == NO_DATE else t for d, t in zip(days.tolist(), text, strict=True)]


def _sorted(ids: pa.Array) -> bool:
    import pyarrow.compute as pc

    n = len(ids)
    before = ids.slice(0, n - 1).cast(pa.large_binary())
    after = ids.slice(1, n - 1).cast(pa.large_binary())
    return bool(pc.all(pc.less(before, after)).as_py())
