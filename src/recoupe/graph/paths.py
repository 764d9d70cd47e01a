"""Paths between two nodes: a breadth-first search from both ends, then igraph.

The search finds the distance level by level in numpy (the cheaper side first), then hands
igraph only a small corridor: the nodes on shortest paths, or for k paths every node within
reach of a path at most ``slack`` links longer than the shortest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from recoupe.graph.data import GraphData, Int, IntArray, Mask, ragged, unique_nodes
from recoupe.graph.subgraph import EdgeFilter, EdgeTest, induced, node_index

if TYPE_CHECKING:  # igraph is imported where it is used: it takes 0.8 s to load
    import igraph as ig

MAX_PATH_LENGTH = 12
CORRIDOR_CAP = 50_000
"""Nodes the corridor handed to igraph for k shortest paths may hold."""


@dataclass(frozen=True)
class Paths:
    """Paths between two nodes, shortest first: node and edge indices of each.

    ``length`` is the shortest distance (None: no path, or none within ``max_length``
    links when not ``exact``); ``exact`` says these are the shortest paths there are.
    """

    nodes: list[list[int]]
    edges: list[list[int]]
    length: int | None
    exact: bool = True

    def to_dict(self, graph: GraphData, visible: IntArray | None = None) -> dict[str, Any]:
        every = sorted({n for path in self.nodes for n in path})
        ids = dict(zip(every, graph.ids(np.array(every, dtype=np.int64)), strict=True))
        return {
            "length": self.length,
            "exact": self.exact,
            "nodes": graph.node_records(np.array(every, dtype=np.int64), visible),
            "paths": [
                {
                    "length": len(edges),
                    "nodes": [ids[n] for n in nodes],
                    "edges": graph.edge_records(np.array(edges, dtype=np.int64)),
                }
                for nodes, edges in zip(self.nodes, self.edges, strict=True)
            ],
        }


class _Search:
    """Breadth-first search from both ends, one level of the cheaper side at a time."""

    def __init__(self, graph: GraphData, a: int, b: int, test: EdgeTest) -> None:
        self.graph, self.test = graph, test
        self.dist = (np.full(len(graph), -1, np.int8), np.full(len(graph), -1, np.int8))
        self.dist[0][a], self.dist[1][b] = 0, 0
        self.levels: tuple[list[Int], list[Int]] = ([np.array([a])], [np.array([b])])
        self.exhausted = False
        """Whether one side saw all it could reach (so no path means none at all)."""

    def step(self, side: int) -> Int:
        """Visit the next level of one side; returns its new nodes."""
        frontier = self.levels[side][-1]
        lo = self.graph.indptr[frontier]
        positions = ragged(lo, self.graph.indptr[frontier + 1] - lo)
        found = self.graph.adj_node[positions]
        fresh = self.dist[side][found] < 0
        found = found[fresh][self.test(self.graph.adj_edge[positions][fresh].astype(np.int64))]
        new = unique_nodes(found, len(self.graph))
        self.dist[side][new] = len(self.levels[side])
        self.levels[side].append(new)
        return new

    def volume(self, side: int) -> int:
        frontier = self.levels[side][-1]
        return int((self.graph.indptr[frontier + 1] - self.graph.indptr[frontier]).sum())

    def size(self) -> int:
        return sum(len(x) for x in self.levels[0] + self.levels[1])

    def meet(self, max_length: int) -> int | None:
        """The distance between the ends, or None beyond ``max_length`` or unconnected."""
        while len(self.levels[0]) + len(self.levels[1]) - 2 < max_length:
            side = 0 if self.volume(0) <= self.volume(1) else 1
            if len(self.levels[side][-1]) == 0:
                self.exhausted = True
                return None
            new = self.step(side)
            hits = new[self.dist[1 - side][new] >= 0]
            if len(hits):
                return len(self.levels[side]) - 1 + int(self.dist[1 - side][hits].min())
        return None

    def _back(self, nodes: Int, dist: npt.NDArray[np.int8], level: int) -> Int:
        """Neighbours of ``nodes`` one level nearer to the end ``dist`` measures from."""
        lo = self.graph.indptr[nodes]
        positions = ragged(lo, self.graph.indptr[nodes + 1] - lo)
        found = self.graph.adj_node[positions]
        ok = self.test(self.graph.adj_edge[positions].astype(np.int64))
        return unique_nodes(found[ok & (dist[found] == level - 1)], len(self.graph))

    def on_shortest(self, length: int, limit: int) -> Int:
        """Every node on some shortest path, walking back from where the two sides met;
        beyond ``limit`` nodes, those of one shortest path."""
        da, db = self.dist
        middle = np.concatenate(self.levels[0])
        middle = middle[(db[middle] >= 0) & (da[middle].astype(np.int64) + db[middle] == length)]
        keep, total = [middle], len(middle)
        for dist in (da, db):
            current, level = middle, int(dist[middle[0]])
            while level > 0 and total <= limit:
                current = self._back(current, dist, level)
                keep.append(current)
                total, level = total + len(current), level - 1
        if total <= limit:
            return unique_nodes(np.concatenate(keep), len(self.graph))
        keep = [middle[:1]]
        for dist in (da, db):
            current, level = middle[:1], int(dist[middle[0]])
            while level > 0:
                current = self._back(current, dist, level)[:1]
                keep.append(current)
                level -= 1
        return unique_nodes(np.concatenate(keep), len(self.graph))

    def ball(self, radius: int, limit: int) -> tuple[Int, bool, bool]:
        """Nodes within ``radius`` of either end; whether that is complete (within
        ``limit`` nodes) and whether it is the ends' whole component."""
        complete = self.size() <= limit
        for side in (0, 1):
            while complete and len(self.levels[side]) - 1 < radius and len(self.levels[side][-1]):
                if self.size() + self.volume(side) > limit:  # at most that many new nodes
                    complete = False
                    break
                self.step(side)
        nodes = unique_nodes(np.concatenate(self.levels[0] + self.levels[1]), len(self.graph))
        whole = not len(self.levels[0][-1]) or not len(self.levels[1][-1])
        return nodes, complete, whole


def k_shortest_paths(
    graph: GraphData,
    a: int | str,
    b: int | str,
    k: int = 1,
    *,
    where: EdgeFilter | None = None,
    edge_mask: Mask | None = None,
    max_length: int = MAX_PATH_LENGTH,
    slack: int = 2,
    corridor_cap: int = CORRIDOR_CAP,
) -> Paths:
    """Up to ``k`` loopless paths from ``a`` to ``b``, shortest first.

    Parallel edges count once (two phones that called each other 500 times are one hop).
    Every path of at most ``reach`` links has each node within ``reach // 2`` links of
    one of the ends, so igraph's Yen search runs on those nodes alone: ``reach`` starts at
    ``shortest + slack`` and grows until ``k`` paths are found within it. When that would
    take more than ``corridor_cap`` nodes, only the nodes on shortest paths are searched
    (and ``exact`` is False unless ``k`` shortest paths are found among them).
    """
    start, end = node_index(graph, a), node_index(graph, b)
    test = (where or EdgeFilter()).compile(graph, edge_mask)
    if start == end:
        return Paths([[start]], [[]], 0, exact=True)
    search = _Search(graph, start, end, test)
    length = search.meet(min(max_length, 127))
    if length is None:
        return Paths([], [], None, exact=search.exhausted)
    if k == 1:
        corridor = search.on_shortest(length, corridor_cap)
        nodes, edges = _yen(graph, corridor, test, (start, end), 1)
        return Paths(nodes, edges, length, exact=True)
    reach = min(length + slack, max_length)
    while True:
        corridor, complete, whole = search.ball(reach // 2, corridor_cap)
        if not complete:  # too many nodes around: the shortest paths alone
            corridor = search.on_shortest(length, corridor_cap)
        nodes, edges = _yen(graph, corridor, test, (start, end), k)
        enough = len(edges) >= k and len(edges[-1]) <= reach
        if whole or not complete or enough or reach >= max_length:
            exact = enough or (whole and complete)
            return Paths(nodes, edges, length, exact)
        reach = min(reach + 2, max_length)


def _yen(
    graph: GraphData, corridor: Int, test: EdgeTest, ends: tuple[int, int], k: int
) -> tuple[list[list[int]], list[list[int]]]:
    """Up to ``k`` shortest paths between ``ends`` through ``corridor`` nodes (igraph)."""
    pairs, sub, edges = _corridor_graph(graph, corridor, test)
    here = np.searchsorted(corridor, ends)
    if k == 1:
        found = [sub.get_shortest_path(int(here[0]), int(here[1]), output="epath")]
    else:
        found = sub.get_k_shortest_paths(int(here[0]), int(here[1]), k=k, output="epath")
    node_paths, edge_paths = [], []
    for path in found:
        if not path:
            continue
        walk = [ends[0]]
        for u, v in pairs[np.asarray(path, dtype=np.int64)].tolist():
            walk.append(int(corridor[v] if corridor[u] == walk[-1] else corridor[u]))
        node_paths.append(walk)
        edge_paths.append([int(e) for e in edges[np.asarray(path, dtype=np.int64)]])
    return node_paths, edge_paths


def shortest_path(
    graph: GraphData,
    a: int | str,
    b: int | str,
    *,
    where: EdgeFilter | None = None,
    edge_mask: Mask | None = None,
    max_length: int = MAX_PATH_LENGTH,
) -> Paths:
    """One shortest path from ``a`` to ``b`` (empty when there is none)."""
    return k_shortest_paths(graph, a, b, 1, where=where, edge_mask=edge_mask, max_length=max_length)


def _corridor_graph(graph: GraphData, corridor: Int, test: EdgeTest) -> tuple[Int, ig.Graph, Int]:
    """igraph over ``corridor`` (local indices), one edge per linked pair."""
    edges, _ = induced(graph, corridor, test, limit=2**62)
    u = np.searchsorted(corridor, graph.src[edges])
    v = np.searchsorted(corridor, graph.dst[edges])
    key = np.minimum(u, v) * len(corridor) + np.maximum(u, v)
    _, first = np.unique(key, return_index=True)
    pairs = np.column_stack((u[first], v[first])).astype(np.int64)
    import igraph as ig

    sub = ig.Graph(n=len(corridor), edges=pairs, directed=False)
    return pairs, sub, edges[first]
