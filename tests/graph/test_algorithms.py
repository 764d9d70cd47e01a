"""Graph algorithms on hand-built arrays: traversals, caps, paths, masks, files."""

from __future__ import annotations

import itertools
import time
from datetime import date
from pathlib import Path

import igraph as ig
import numpy as np
import pyarrow as pa
import pytest

from recoupe.graph import (
    EdgeFilter,
    GraphData,
    GraphTables,
    NodeNotFound,
    centrality,
    common_neighbours,
    communities,
    expand,
    k_shortest_paths,
    shortest_path,
)
from recoupe.graph.algorithms import pagerank
from recoupe.graph.data import NO_DATE

Pairs = list[tuple[int, int]]


def make_graph(
    n: int,
    pairs: Pairs | np.ndarray,
    *,
    schema: list[int] | np.ndarray | None = None,
    dataset: list[int] | np.ndarray | None = None,
    start: list[int] | np.ndarray | None = None,
) -> GraphData:
    """Nodes ``n0000000``... with one label row each (dataset 0), edges of schema 0."""
    edges = np.asarray(pairs, dtype=np.int32).reshape(-1, 2)
    m = len(edges)

    def column(values: list[int] | np.ndarray | None, default: int, dtype: type) -> np.ndarray:
        if values is None:
            return np.full(m, default, dtype=dtype)
        return np.asarray(values, dtype=dtype)

    starts = column(start, NO_DATE, np.int32)
    tables = GraphTables(
        generation=1,
        node_ids=pa.array([f"n{i:07d}" for i in range(n)]),
        node_kind=np.zeros(n, dtype=np.int8),
        node_schema=np.zeros(n, dtype=np.int16),
        label_node=np.arange(n, dtype=np.int32),
        label_dataset=np.zeros(n, dtype=np.int16),
        label_schema=np.zeros(n, dtype=np.int16),
        label_caption=pa.array([f"Node {i}" for i in range(n)]),
        src=edges[:, 0].copy(),
        dst=edges[:, 1].copy(),
        edge_kind=np.zeros(m, dtype=np.int8),
        edge_schema=column(schema, 1, np.int16),
        edge_prop=np.full(m, -1, dtype=np.int16),
        edge_start=starts,
        edge_end=starts.copy(),
        edge_dataset=column(dataset, 0, np.int16),
        edge_entity=pa.array([f"e{i}" for i in range(m)], pa.string()),
        schemata=["Person", "PhoneCall", "Payment"],
        props=[],
        datasets=["alpha", "beta"],
    )
    return GraphData.build(tables)


def random_pairs(n: int, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    pairs = rng.integers(0, n, size=(m, 2))
    return pairs[pairs[:, 0] != pairs[:, 1]]


def test_adjacency_lists_every_edge_under_both_ends_with_sorted_neighbours() -> None:
    graph = make_graph(5, [(0, 1), (3, 0), (0, 1), (2, 4)])
    assert graph.degree().tolist() == [3, 2, 1, 1, 1]
    lo, hi = graph.indptr[0], graph.indptr[1]
    assert graph.adj_node[lo:hi].tolist() == [1, 1, 3]
    assert sorted(graph.adj_edge[lo:hi].tolist()) == [0, 1, 2]
    assert graph.index_of("n0000003") == 3
    assert graph.find("n000000") == -1 and graph.find("n0000005") == -1 and graph.find("") == -1
    with pytest.raises(NodeNotFound, match="n9999999"):
        graph.index_of("n9999999")


def test_save_and_load_give_the_same_graph(tmp_path: Path) -> None:
    graph = make_graph(50, random_pairs(50, 200, 1))
    graph.save(tmp_path / "g")
    loaded = GraphData.load(tmp_path / "g")
    assert loaded.generation == 1 and len(loaded) == 50 and loaded.n_edges == graph.n_edges
    for name in ("src", "dst", "indptr", "adj_node", "adj_edge", "edge_start", "label_ptr"):
        assert np.array_equal(getattr(loaded, name), getattr(graph, name)), name
    assert loaded.node_records(np.arange(50)) == graph.node_records(np.arange(50))
    assert loaded.edge_records(np.arange(10)) == graph.edge_records(np.arange(10))
    assert all(loaded.index_of(f"n{i:07d}") == i for i in range(50))


def test_expand_goes_level_by_level_and_says_when_it_is_capped() -> None:
    chain = [(i, i + 1) for i in range(9)]  # 0-1-2-...-9
    graph = make_graph(10, chain)
    one = expand(graph, [0], 1)
    assert one.nodes.tolist() == [0, 1] and not one.capped
    three = expand(graph, [5], 3)
    assert sorted(three.nodes.tolist()) == [2, 3, 4, 5, 6, 7, 8]
    assert len(three.edges) == 6
    capped = expand(graph, [5], 3, cap=4)
    assert len(capped.nodes) == 4 and capped.capped and capped.omitted >= 1
    assert expand(graph, [5], 0).nodes.tolist() == [5]


def test_a_capped_level_keeps_the_nodes_linked_to_most_of_what_was_taken() -> None:
    # 0 links to 1..3; 10 is linked to 1, 2 and 3, the leaves 20..29 to one of them each
    pairs = [(0, 1), (0, 2), (0, 3), (1, 10), (2, 10), (3, 10)]
    pairs += [(1 + i % 3, 20 + i) for i in range(10)]
    graph = make_graph(30, pairs)
    found = expand(graph, [0], 2, cap=5)
    assert found.capped and 10 in found.nodes.tolist()


def test_a_busy_node_does_not_slow_a_capped_neighbourhood() -> None:
    leaves = 200_000
    hub_pairs = np.column_stack([np.zeros(leaves, dtype=np.int64), np.arange(1, leaves + 1)])
    more = np.column_stack([np.arange(1, leaves + 1), np.arange(2, leaves + 2)])
    graph = make_graph(leaves + 2, np.concatenate([hub_pairs, more]))
    expand(graph, [5], 2, cap=500)  # warm up
    started = time.perf_counter()
    found = expand(graph, [5], 2, cap=500)
    elapsed = time.perf_counter() - started
    assert found.capped and len(found.nodes) == 500
    assert elapsed < 0.5, elapsed  # measured ~15 ms; the bound leaves room for a busy machine


def test_filters_by_schema_dataset_and_time_window() -> None:
    days = [(date(2024, m, 1) - date(1970, 1, 1)).days for m in (1, 6)]
    graph = make_graph(
        4,
        [(0, 1), (0, 2), (0, 3)],
        schema=[1, 2, 0],
        dataset=[0, 1, 0],
        start=[days[0], days[1], NO_DATE],
    )
    assert sorted(expand(graph, [0], 1, schemata=frozenset({"PhoneCall"})).nodes) == [0, 1]
    assert sorted(expand(graph, [0], 1, datasets=frozenset({"beta"})).nodes) == [0, 2]
    june = expand(graph, [0], 1, since=date(2024, 5, 1))
    assert sorted(june.nodes) == [0, 2, 3]  # undated links stay
    january = expand(graph, [0], 1, until=date(2024, 2, 1))
    assert sorted(january.nodes) == [0, 1, 3]
    mask = np.array([True, False, True])
    assert sorted(expand(graph, [0], 1, edge_mask=mask).nodes) == [0, 1, 3]


def test_the_edge_cap_keeps_one_edge_per_linked_pair_first() -> None:
    pairs = [(0, 1)] * 50 + [(0, 2), (1, 2), (2, 3)]
    graph = make_graph(4, pairs)
    found = expand(graph, [0], 2, max_edges=5)
    ends = {tuple(sorted((int(graph.src[e]), int(graph.dst[e])))) for e in found.edges}
    assert ends == {(0, 1), (0, 2), (1, 2), (2, 3)}
    assert len(found.edges) == 5 and found.omitted_edges == 48


def test_shortest_path_and_missing_nodes() -> None:
    graph = make_graph(7, [(0, 1), (1, 2), (2, 3), (0, 4), (4, 3), (5, 6)])
    path = shortest_path(graph, "n0000000", "n0000003")
    assert path.length == 2 and path.nodes == [[0, 4, 3]]
    assert [graph.src[e] for e in path.edges[0]] == [0, 4]
    none = shortest_path(graph, 0, 6)
    assert none.length is None and none.nodes == [] and none.edges == []
    assert shortest_path(graph, 2, 2).nodes == [[2]]
    with pytest.raises(NodeNotFound, match="nobody"):
        shortest_path(graph, "nobody", 0)
    hidden = np.array([True, True, True, False, True, True])
    assert shortest_path(graph, 0, 3, edge_mask=hidden).nodes == [[0, 1, 2, 3]]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_k_shortest_paths_agree_with_igraph_on_the_whole_graph(seed: int) -> None:
    pairs = random_pairs(300, 700, seed)
    graph = make_graph(300, pairs)
    simple = ig.Graph(n=300, edges=pairs.tolist(), directed=False).simplify()
    rng = np.random.default_rng(seed)
    for a, b in rng.integers(0, 300, size=(5, 2)).tolist():
        if a == b:
            continue
        found = k_shortest_paths(graph, a, b, 4)
        expected = simple.get_k_shortest_paths(a, b, k=4, output="vpath")
        if not expected or not expected[0]:
            assert found.length is None
            continue
        assert found.length == len(expected[0]) - 1
        if found.exact:
            assert [len(p) for p in found.nodes] == [len(p) for p in expected]
        for nodes, edges in zip(found.nodes, found.edges, strict=True):
            assert nodes[0] == a and nodes[-1] == b and len(set(nodes)) == len(nodes)
            for (u, v), e in zip(itertools.pairwise(nodes), edges, strict=True):
                assert {int(graph.src[e]), int(graph.dst[e])} == {u, v}


def test_common_neighbours_and_their_edges() -> None:
    graph = make_graph(6, [(0, 2), (1, 2), (0, 3), (1, 3), (0, 4), (5, 2)])
    found = common_neighbours(graph, [0, 1])
    assert sorted(found.nodes.tolist()) == [0, 1, 2, 3]
    assert len(found.edges) == 4
    capped = common_neighbours(graph, [0, 1], cap=1)
    assert capped.capped and len(capped.nodes) == 3


def test_communities_find_two_cliques_joined_by_one_edge() -> None:
    clique = list(itertools.combinations(range(6), 2))
    pairs = clique + [(a + 6, b + 6) for a, b in clique] + [(0, 6)]
    graph = make_graph(13, pairs)
    found = communities(graph)
    assert found.sizes.tolist() == [6, 6]
    assert len(set(found.membership[:6].tolist())) == 1
    assert found.membership[0] != found.membership[6]
    assert found.membership[12] == -1  # no edge: no community
    assert found.modularity > 0.4


def test_centrality_measures_rank_the_hub_first() -> None:
    pairs = [(0, i) for i in range(1, 20)] + [(i, i + 1) for i in range(1, 19)]
    graph = make_graph(21, pairs)
    for measure in ("degree", "pagerank", "betweenness"):
        nodes, scores = centrality(graph, measure, 3)
        assert nodes[0] == 0 and list(scores) == sorted(scores, reverse=True), measure
    nodes, _ = centrality(graph, "degree", 100)
    assert 20 not in nodes.tolist()  # no edge, not ranked
    with pytest.raises(ValueError, match="closeness"):
        centrality(graph, "closeness", 3)


def test_pagerank_matches_igraph() -> None:
    pairs = random_pairs(200, 500, 4)
    graph = make_graph(210, pairs)
    expected = ig.Graph(n=210, edges=pairs.tolist(), directed=False).pagerank(directed=False)
    assert np.allclose(pagerank(graph), expected, atol=1e-8)


def test_an_edge_filter_with_nothing_set_keeps_the_mask() -> None:
    graph = make_graph(3, [(0, 1), (1, 2)])
    mask = np.array([True, False])
    assert EdgeFilter().mask(graph, mask) is mask
    assert EdgeFilter(kinds=frozenset({"shared"})).mask(graph, None) is not None
