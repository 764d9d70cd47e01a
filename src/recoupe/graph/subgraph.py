"""What traversals share: edge filters, the subgraph they return, the edges between nodes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np

from recoupe.graph.data import (
    EDGE_KINDS,
    NO_DATE,
    GraphData,
    Int,
    IntArray,
    Mask,
    NodeNotFound,
    ragged,
    unique_nodes,
)

_EPOCH = date(1970, 1, 1)

EdgeTest = Callable[[Int], Mask]


@dataclass(frozen=True)
class EdgeFilter:
    """Which edges an operation may follow (None: any)."""

    schemata: frozenset[str] | None = None
    kinds: frozenset[str] | None = None
    datasets: frozenset[str] | None = None
    since: date | None = None
    until: date | None = None

    def compile(self, graph: GraphData, edge_mask: Mask | None = None) -> EdgeTest:
        """A function telling, for an array of edge indices, which ones may be followed.

        The time window keeps an edge whose dates overlap it (a missing end date is an
        open end) and every undated edge (an owner, a holder: links with no time).
        """
        schemata = None if self.schemata is None else graph.codes(sorted(self.schemata), "schemata")
        datasets = None if self.datasets is None else graph.codes(sorted(self.datasets), "datasets")
        kinds = None
        if self.kinds is not None:
            kinds = np.array([k for k, n in enumerate(EDGE_KINDS) if n in self.kinds], np.int64)
        since = None if self.since is None else (self.since - _EPOCH).days
        until = None if self.until is None else (self.until - _EPOCH).days

        def test(edges: Int) -> Mask:
            ok = np.ones(len(edges), dtype=bool) if edge_mask is None else edge_mask[edges]
            if schemata is not None:
                ok &= np.isin(graph.edge_schema[edges], schemata)
            if kinds is not None:
                ok &= np.isin(graph.edge_kind[edges], kinds)
            if datasets is not None:
                ok &= np.isin(graph.edge_dataset[edges], datasets)
            if since is not None or until is not None:
                start, end = graph.edge_start[edges], graph.edge_end[edges]
                inside = np.ones(len(edges), dtype=bool)
                if since is not None:
                    inside &= (end == NO_DATE) | (end >= since)
                if until is not None:
                    inside &= (start == NO_DATE) | (start <= until)
                ok &= inside | ((start == NO_DATE) & (end == NO_DATE))
            return ok

        return test

    def mask(self, graph: GraphData, edge_mask: Mask | None = None) -> Mask | None:
        """The filter over every edge at once (None when it keeps everything)."""
        if self == EdgeFilter():
            return edge_mask
        return self.compile(graph, edge_mask)(np.arange(graph.n_edges, dtype=np.int64))


def node_index(graph: GraphData, node: int | str) -> int:
    if isinstance(node, str):
        return graph.index_of(node)
    if not 0 <= node < len(graph):
        raise NodeNotFound(str(node))
    return int(node)


@dataclass(frozen=True)
class Subgraph:
    """Some nodes and the edges between them; ``capped`` when more were left out."""

    nodes: Int
    edges: Int
    capped: bool = False
    omitted: int = 0
    """Neighbours seen but left out by the cap (at least this many)."""
    omitted_edges: int = 0

    def to_dict(self, graph: GraphData, visible: IntArray | None = None) -> dict[str, Any]:
        return {
            "nodes": graph.node_records(self.nodes, visible),
            "edges": graph.edge_records(self.edges),
            "capped": self.capped,
            "omitted": self.omitted,
            "omitted_edges": self.omitted_edges,
        }


def induced(graph: GraphData, nodes: Int, test: EdgeTest, limit: int) -> tuple[Int, int]:
    """Edges between ``nodes`` that pass ``test``, at most ``limit`` (every linked pair
    keeps one edge before any pair gets a second)."""
    inside = np.zeros(len(graph), dtype=bool)
    inside[nodes] = True
    lo, hi = graph.indptr[nodes], graph.indptr[nodes + 1]
    big = (hi - lo) > 8 * len(nodes) + 64
    positions = ragged(lo[~big], (hi - lo)[~big])
    found = [graph.adj_edge[positions][inside[graph.adj_node[positions]]].astype(np.int64)]
    ordered = np.sort(nodes)
    for a, b in zip(lo[big].tolist(), hi[big].tolist(), strict=True):
        neighbours = graph.adj_node[a:b]  # sorted: look the other nodes up
        left = np.searchsorted(neighbours, ordered, "left")
        right = np.searchsorted(neighbours, ordered, "right")
        found.append(graph.adj_edge[ragged(a + left, right - left)].astype(np.int64))
    edges = unique_nodes(np.concatenate(found), graph.n_edges)
    edges = edges[test(edges)]
    if len(edges) <= limit:
        return edges, 0
    u = np.minimum(graph.src[edges], graph.dst[edges]).astype(np.int64)
    v = np.maximum(graph.src[edges], graph.dst[edges]).astype(np.int64)
    pair = u * len(graph) + v
    order = np.lexsort((edges, pair))
    first = np.r_[True, pair[order][1:] != pair[order][:-1]]
    index = np.arange(len(order))
    rank = index - np.maximum.accumulate(np.where(first, index, 0))
    chosen = order[np.lexsort((edges[order], rank))[:limit]]
    return np.sort(edges[chosen]), len(edges) - limit
