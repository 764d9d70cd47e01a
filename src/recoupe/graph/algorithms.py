"""Graph operations over :class:`~recoupe.graph.data.GraphData`: pure numpy and igraph.

Every operation takes an optional boolean ``edge_mask`` (the edges a reader may see) and an
:class:`EdgeFilter` (schemata, kinds, datasets, a time window). Traversals work level by
level on the adjacency index, a whole level at a time in numpy; a busy node (a value shared
by 100,000 records) gives each level a bounded number of its neighbours, so a capped
neighbourhood stays fast whatever the degrees. Paths search both ends at once, then hand a
small corridor around the shortest paths to igraph (Yen's k shortest paths); communities
(Leiden) and centrality run igraph over the whole graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from recoupe.graph.data import GraphData, Int, IntArray, Mask, ragged, sorted_unique
from recoupe.graph.paths import Paths, k_shortest_paths, shortest_path
from recoupe.graph.subgraph import EdgeFilter, Subgraph, induced

if TYPE_CHECKING:  # igraph is imported where it is used: it takes 0.8 s to load
    import igraph as ig

__all__ = [
    "Communities",
    "EdgeFilter",
    "Paths",
    "Subgraph",
    "centrality",
    "common_neighbours",
    "communities",
    "expand",
    "k_shortest_paths",
    "shortest_path",
]

DEFAULT_CAP = 500
LEVEL_BUDGET = 200_000
"""Adjacency entries one level of :func:`expand` reads at most, shared fairly by its nodes."""
MEASURES = ("degree", "pagerank", "betweenness")


def _gather(graph: GraphData, frontier: Int, budget: int | None) -> tuple[Int, bool]:
    """Adjacency positions of ``frontier``; with a budget, a fair share for each node."""
    lo = graph.indptr[frontier]
    degree = graph.indptr[frontier + 1] - lo
    if budget is None or int(degree.sum()) <= budget:
        return ragged(lo, degree), True
    low, high = 1, int(degree.max())
    while low < high:  # the largest per-node share that keeps the level within budget
        mid = (low + high + 1) // 2
        if int(np.minimum(degree, mid).sum()) <= budget:
            low = mid
        else:
            high = mid - 1
    return ragged(lo, np.minimum(degree, low)), False


def expand(
    graph: GraphData,
    seeds: IntArray | list[int],
    depth: int,
    *,
    schemata: frozenset[str] | None = None,
    kinds: frozenset[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    datasets: frozenset[str] | None = None,
    where: EdgeFilter | None = None,
    cap: int = DEFAULT_CAP,
    edge_mask: Mask | None = None,
    budget: int = LEVEL_BUDGET,
    max_edges: int | None = None,
) -> Subgraph:
    """Nodes within ``depth`` links of ``seeds`` (breadth first), at most ``cap`` of them.

    When a level holds more new nodes than room is left, those linked to the most nodes
    already taken come first. Filters (``schemata`` ... ``datasets``) add to ``where``.
    """
    where = EdgeFilter() if where is None else where
    where = EdgeFilter(
        schemata if schemata is not None else where.schemata,
        kinds if kinds is not None else where.kinds,
        datasets if datasets is not None else where.datasets,
        since if since is not None else where.since,
        until if until is not None else where.until,
    )
    test = where.compile(graph, edge_mask)
    start = np.unique(np.asarray(seeds, dtype=np.int64))
    capped = len(start) > cap
    omitted = max(len(start) - cap, 0)
    start = start[:cap]
    visited = np.zeros(len(graph), dtype=bool)
    visited[start] = True
    taken, frontier, count = [start], start, len(start)
    for _ in range(depth):
        if len(frontier) == 0:
            break
        positions, complete = _gather(graph, frontier, budget)
        capped |= not complete
        found = graph.adj_node[positions]
        fresh = ~visited[found]
        found = found[fresh][test(graph.adj_edge[positions][fresh].astype(np.int64))]
        if len(found) == 0:
            break
        new, links = np.unique(found, return_counts=True)
        room = cap - count
        if len(new) > room:
            capped, omitted = True, omitted + len(new) - room
            new = np.sort(new[np.lexsort((new, -links))[:room]])
        if len(new) == 0:
            break
        visited[new] = True
        taken.append(new.astype(np.int64))
        frontier, count = new.astype(np.int64), count + len(new)
    nodes = np.concatenate(taken)
    limit = max_edges if max_edges is not None else max(10 * cap, 1000)
    edges, left_out = induced(graph, nodes, test, limit)
    return Subgraph(nodes, edges, capped, omitted, left_out)


# -- neighbours, communities, centrality --------------------------------------------------
def common_neighbours(
    graph: GraphData,
    nodes: IntArray | list[int],
    *,
    where: EdgeFilter | None = None,
    edge_mask: Mask | None = None,
    cap: int = DEFAULT_CAP,
) -> Subgraph:
    """Nodes linked to every one of ``nodes``, with the edges linking them.

    Beyond ``cap``, the common neighbours with the most links to ``nodes`` come first.
    """
    given = np.unique(np.asarray(nodes, dtype=np.int64))
    test = (EdgeFilter() if where is None else where).compile(graph, edge_mask)
    common: Int | None = None
    for node in given.tolist():
        lo, hi = int(graph.indptr[node]), int(graph.indptr[node + 1])
        ok = test(graph.adj_edge[lo:hi].astype(np.int64))
        found = sorted_unique(graph.adj_node[lo:hi][ok])
        common = found if common is None else np.intersect1d(common, found, assume_unique=True)
    shared = np.setdiff1d(common if common is not None else given[:0], given)
    capped, omitted = len(shared) > cap, max(len(shared) - cap, 0)
    if capped:
        links = np.zeros(len(shared), dtype=np.int64)
        for node in given.tolist():
            lo, hi = int(graph.indptr[node]), int(graph.indptr[node + 1])
            neighbours = graph.adj_node[lo:hi]
            left = np.searchsorted(neighbours, shared, "left")
            links += np.searchsorted(neighbours, shared, "right") - left
        shared = np.sort(shared[np.lexsort((shared, -links))[:cap]])
    kept = np.concatenate([given, shared])
    edges, _ = induced(graph, kept, test, limit=2**62)
    ends = np.isin(graph.src[edges], given) != np.isin(graph.dst[edges], given)
    return Subgraph(kept, edges[ends], capped, omitted)


def _masked(graph: GraphData, edge_mask: Mask | None) -> ig.Graph:
    whole = graph.igraph()
    if edge_mask is None or bool(edge_mask.all()):
        return whole
    return whole.subgraph_edges(np.flatnonzero(edge_mask).tolist(), delete_vertices=False)


def visible_degree(graph: GraphData, edge_mask: Mask | None) -> Int:
    """Edges at each node among those in the mask."""
    src, dst = graph.src, graph.dst
    if edge_mask is not None:
        src, dst = src[edge_mask], dst[edge_mask]
    n = len(graph)
    return (np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)).astype(np.int64)


@dataclass(frozen=True)
class Communities:
    """Leiden communities: ``membership[node]`` numbers them from the largest (0) down;
    -1 for nodes without a visible edge. ``sizes[c]`` counts the members of ``c``."""

    membership: Int
    sizes: Int
    modularity: float
    ranked: Int
    """Members of every community, community by community, the most linked first."""
    starts: Int
    """Where each community begins in ``ranked`` (one more entry than communities)."""

    def members(self, community: int, limit: int | None = None) -> Int:
        """Members of ``community``, the most linked first."""
        lo, hi = int(self.starts[community]), int(self.starts[community + 1])
        return self.ranked[lo : hi if limit is None else min(hi, lo + limit)]


def communities(
    graph: GraphData,
    *,
    edge_mask: Mask | None = None,
    resolution: float = 1.0,
    iterations: int = 2,
) -> Communities:
    """Leiden communities optimising modularity over the (visible) whole graph."""
    sub = _masked(graph, edge_mask)
    found = sub.community_leiden(
        objective_function="modularity", resolution=resolution, n_iterations=iterations
    )
    membership = np.asarray(found.membership, dtype=np.int64)
    degree = visible_degree(graph, edge_mask)
    active = degree > 0
    membership[~active] = -1
    sizes = np.bincount(membership[active], minlength=1)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty(len(sizes), dtype=np.int64)
    rank[order] = np.arange(len(sizes))
    membership = np.where(membership >= 0, rank[np.maximum(membership, 0)], -1)
    sizes = sizes[order]
    sizes = sizes[sizes > 0]
    nodes = np.flatnonzero(active)
    ranked = nodes[np.lexsort((nodes, -degree[nodes], membership[nodes]))]
    starts = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=starts[1:])
    modularity = float(found.modularity) if sub.ecount() else 0.0
    return Communities(membership, sizes, modularity, ranked, starts)


def centrality(
    graph: GraphData,
    measure: str,
    top: int = 20,
    *,
    edge_mask: Mask | None = None,
    samples: int = 64,
    seed: int = 0,
) -> tuple[Int, np.ndarray[Any, np.dtype[np.float64]]]:
    """The ``top`` nodes by ``measure`` and their scores, highest first.

    ``degree`` counts visible edges; ``pagerank`` iterates over the undirected edges in
    numpy (damping 0.85, until the ranks move by less than 1e-7 in all);
    ``betweenness`` is estimated from shortest paths leaving ``samples`` random nodes,
    scaled to the whole graph.
    """
    degree = visible_degree(graph, edge_mask)
    active = degree > 0
    if measure == "degree":
        scores = degree.astype(np.float64)
    elif measure == "pagerank":
        scores = pagerank(graph, edge_mask=edge_mask)
    elif measure == "betweenness":
        candidates = np.flatnonzero(active)
        rng = np.random.default_rng(seed)
        chosen = rng.choice(candidates, size=min(samples, len(candidates)), replace=False)
        sub = _masked(graph, edge_mask)
        raw = sub.betweenness(directed=False, sources=chosen.tolist()) if len(chosen) else []
        scale = len(candidates) / max(len(chosen), 1)
        scores = np.asarray(raw, dtype=np.float64) * scale
        if len(scores) == 0:
            scores = np.zeros(len(graph), dtype=np.float64)
    else:
        raise ValueError(f"no centrality measure {measure!r} (use one of {MEASURES})")
    scores = np.where(active, scores, 0.0)
    top = min(top, int(active.sum()))
    if top <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    best = np.argpartition(-scores, top - 1)[:top]
    best = best[np.lexsort((best, -scores[best]))]
    return best.astype(np.int64), scores[best]


def pagerank(
    graph: GraphData,
    *,
    edge_mask: Mask | None = None,
    damping: float = 0.85,
    tolerance: float = 1e-7,
    iterations: int = 100,
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """PageRank of every node over the undirected (visible) edges, by power iteration.

    A node without edges spreads its rank over every node, as igraph's does.
    """
    src, dst = graph.src, graph.dst
    if edge_mask is not None:
        src, dst = src[edge_mask], dst[edge_mask]
    n = len(graph)
    if n == 0:
        return np.zeros(0, dtype=np.float64)
    degree = (np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)).astype(np.float64)
    alone = degree == 0
    inverse = np.divide(1.0, degree, out=np.zeros(n), where=~alone)
    rank = np.full(n, 1.0 / n)
    for _ in range(iterations):
        share = rank * inverse
        spread = np.bincount(dst, weights=share[src], minlength=n)
        spread += np.bincount(src, weights=share[dst], minlength=n)
        new = damping * spread + (damping * rank[alone].sum() + 1.0 - damping) / n
        change = float(np.abs(new - rank).sum())
        rank = new
        if change < tolerance:
            break
    return rank
