"""The link graph: entities and shared identifier values as nodes, links as edges.

Pure code over arrays (numpy, Arrow, igraph); the store builds the arrays
(:mod:`recoupe.store.graph_source`) and :mod:`recoupe.services.graph` caches them and checks
who may see what.

- :mod:`recoupe.graph.data`: :class:`GraphData`, the arrays, a two-way adjacency index and
  their files on disk;
- :mod:`recoupe.graph.algorithms`: neighbourhoods, paths, common neighbours, communities,
  centrality, all over an optional mask of the edges a reader may see;
- :mod:`recoupe.graph.export`: GEXF 1.3, GraphML and Cypher writers.
"""

from recoupe.graph.algorithms import (
    EdgeFilter,
    Paths,
    Subgraph,
    centrality,
    common_neighbours,
    communities,
    expand,
    k_shortest_paths,
    shortest_path,
)
from recoupe.graph.data import GraphData, GraphTables, NodeNotFound

__all__ = [
    "EdgeFilter",
    "GraphData",
    "GraphTables",
    "NodeNotFound",
    "Paths",
    "Subgraph",
    "centrality",
    "common_neighbours",
    "communities",
    "expand",
    "k_shortest_paths",
    "shortest_path",
]
