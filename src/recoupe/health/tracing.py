"""Transmission trees from contact tracing: chains, generations, super-spreaders, serial
intervals.

Input: one row per case (an id and a symptom onset, as days on any origin) and, for each,
the index of its infector (or -1 when unknown). Each case has at most one infector, so the
links form a forest: the trees are its components, rooted at the cases with no known
infector; a case's generation is its depth from its root (the root is generation 0).
A cycle of infections cannot happen and is refused with the cases it goes through.
Pure numerics over arrays (igraph inside).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from recoupe.errors import ConfigError

Int = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Forest:
    ids: tuple[str, ...]
    infector: Int
    """Index of each case's infector, -1 for none."""
    tree: Int
    """Index of each case's tree (trees numbered by decreasing size)."""
    roots: Int
    """The root case of each tree."""
    sizes: Int
    """Cases per tree."""
    generation: Int
    offspring: Int
    """Cases each case infected."""
    serial_interval: Array
    """Onset of each case minus its infector's (NaN without infector or onset)."""

    @property
    def links(self) -> int:
        return int((self.infector >= 0).sum())

    def chain(self, case: int) -> list[int]:
        """The cases from the root of ``case``'s tree down to it."""
        out = [case]
        while self.infector[out[-1]] >= 0:
            out.append(int(self.infector[out[-1]]))
        return out[::-1]

    def super_spreaders(self, top: int = 10) -> list[tuple[str, int]]:
        """(case id, offspring) of the cases that infected the most others."""
        order = np.lexsort((np.arange(self.offspring.size), -self.offspring))[:top]
        return [(self.ids[i], int(self.offspring[i])) for i in order if self.offspring[i] > 0]

    def summary(self) -> dict[str, object]:
        si = self.serial_interval[~np.isnan(self.serial_interval)]
        return {
            "cases": len(self.ids),
            "links": self.links,
            "trees": int(self.roots.size),
            "tree_sizes": self.sizes.tolist(),
            "roots": [self.ids[i] for i in self.roots],
            "deepest_generation": int(self.generation.max()) if self.generation.size else 0,
            "cases_by_generation": np.bincount(self.generation).tolist(),
            "offspring_mean": float(self.offspring.mean()),
            "offspring_variance": float(self.offspring.var()),
            "infected_nobody": int((self.offspring == 0).sum()),
            "super_spreaders": [{"case": c, "infected": n} for c, n in self.super_spreaders(5)],
            "serial_interval_mean": float(si.mean()) if si.size else None,
            "serial_interval_sd": float(si.std(ddof=1)) if si.size > 1 else None,
        }


def forest(ids: Sequence[str], infector: Sequence[int], onset: Sequence[float]) -> Forest:
    """The transmission forest of cases ``ids`` (see the module docstring)."""
    n = len(ids)
    parent = np.asarray(infector, dtype=np.int64)
    days = np.asarray(onset, dtype=np.float64)
    if parent.shape != (n,) or days.shape != (n,):
        raise ConfigError("ids, infector and onset must have one value per case")
    if len(set(ids)) != n:
        dup = next(i for i, count in Counter(ids).items() if count > 1)
        raise ConfigError(f"case {dup!r} is listed twice")
    bad = np.flatnonzero((parent < -1) | (parent >= n) | (parent == np.arange(n)))
    if bad.size:
        i = int(bad[0])
        raise ConfigError(f"case {ids[i]!r}: infector index {parent[i]} is not another case")
    linked = np.flatnonzero(parent >= 0)
    import igraph as ig  # here, not at the top: it takes 0.8 s to load

    graph = ig.Graph(n=n, edges=np.column_stack([parent[linked], linked]).tolist(), directed=True)
    if not graph.is_dag():
        cycle = _cycle(parent)
        raise ConfigError("infections go round in a cycle: " + " -> ".join(ids[i] for i in cycle))
    components = graph.connected_components(mode="weak")
    membership = np.asarray(components.membership, dtype=np.int64)
    sizes = np.bincount(membership)
    order = np.lexsort((np.arange(sizes.size), -sizes))  # largest tree first
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    tree = rank[membership]
    roots_all = np.flatnonzero(parent < 0)
    roots = roots_all[np.argsort(tree[roots_all], kind="stable")]
    generation = np.zeros(n, dtype=np.int64)
    for root in roots:
        ids_, dists, _ = graph.bfs(int(root), mode="out")
        reached = np.asarray(ids_, dtype=np.int64)
        layer_starts = np.asarray(dists, dtype=np.int64)
        for g in range(len(layer_starts) - 1):
            generation[reached[layer_starts[g] : layer_starts[g + 1]]] = g
    offspring = np.bincount(parent[linked], minlength=n).astype(np.int64)
    si = np.full(n, np.nan)
    si[linked] = days[linked] - days[parent[linked]]
    return Forest(
        tuple(ids), parent, tree, roots, sizes[order].astype(np.int64), generation, offspring, si
    )


def _cycle(parent: Int) -> list[int]:
    for start in range(parent.size):
        seen: list[int] = []
        node = start
        while node >= 0 and node not in seen:
            seen.append(node)
            node = int(parent[node])
        if node >= 0:
            return [*seen[seen.index(node) :], node]
    return []
