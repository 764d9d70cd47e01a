"""The link graph of the synthetic scenario: the hidden cell is connected and clustered."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recoupe.graph import communities, k_shortest_paths
from recoupe.scenario import generate
from recoupe.security.reader import Reader
from recoupe.services.graph import GraphService
from recoupe.services.ingest import ingest_mapping
from recoupe.store import DuckDBStore, open_store

SCALE = 5000


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DuckDBStore, Any]]:
    root = tmp_path_factory.mktemp("graph-scenario")
    summary = generate(root / "scenario", SCALE, seed=11)
    with open_store(root / "ws", create=True, memory_limit="1GB", threads=2) as store:
        for mapping in summary.mappings:
            ingest_mapping(store, mapping)
        truth = json.loads((root / "scenario" / "truth.json").read_text(encoding="utf-8"))
        yield store, truth


@pytest.fixture(scope="module")
def service(scenario: tuple[DuckDBStore, Any]) -> GraphService:
    return GraphService(scenario[0])


def cell_records(truth: Any) -> list[list[str]]:
    """Entity ids of each cell member's records."""
    return [[r["entity_id"] for r in p["records"]] for p in truth["people"] if p["cell"]]


def test_cell_members_are_linked_by_short_paths(
    scenario: tuple[DuckDBStore, Any], service: GraphService
) -> None:
    reader = Reader.system()
    graph = service.graph()
    members = [[i for i in records if graph.find(i) >= 0] for records in cell_records(scenario[1])]
    members = [m for m in members if m]
    assert len(members) >= 5
    lengths = []
    for first, second in itertools.pairwise(members):
        found = service.paths(reader, first[0], second[0])
        assert found["exact"] and found["length"] is not None
        lengths.append(found["length"])
        (path,) = found["paths"]
        assert path["nodes"][0] == first[0] and path["nodes"][-1] == second[0]
        assert len(path["edges"]) == found["length"]
    assert max(lengths) <= 8, lengths
    several = service.paths(reader, members[0][0], members[1][0], k=3)
    assert len(several["paths"]) == 3
    assert [p["length"] for p in several["paths"]] == sorted(p["length"] for p in several["paths"])


def test_records_of_one_person_share_identifier_values(service: GraphService) -> None:
    graph = service.graph()
    values = np.flatnonzero(graph.node_kind == 1)
    kinds = Counter(graph.ids(values)[i].split(":", 1)[0] for i in range(len(values)))
    assert kinds["phone"] > 0 and kinds["identifier"] > 0
    shared = np.flatnonzero(graph.edge_kind == 2)
    assert set(graph.src[shared].tolist()).isdisjoint(values.tolist())
    assert set(graph.dst[shared].tolist()) <= set(values.tolist())


def test_communities_group_the_cell(
    scenario: tuple[DuckDBStore, Any], service: GraphService
) -> None:
    reader = Reader.system()
    found = service.communities(reader, top=5)
    assert found["count"] > 5 and found["modularity"] > 0.3
    graph = service.graph()
    direct = communities(graph)
    assert int(direct.sizes.sum()) == int((graph.degree() > 0).sum())
    first = [r[0] for r in cell_records(scenario[1]) if graph.find(r[0]) >= 0]
    seen = Counter(service.community_of(reader, i)["community"] for i in first)
    assert seen.most_common(1)[0][1] >= 2  # cell members gather, not one per community


def test_centrality_and_paths_between_hubs(service: GraphService) -> None:
    reader = Reader.system()
    for measure in ("degree", "pagerank", "betweenness"):
        top = service.centrality(reader, measure, top=10)["nodes"]
        assert len(top) == 10 and top[0]["score"] >= top[-1]["score"]
    graph = service.graph()
    hubs = [graph.index_of(n["id"]) for n in service.centrality(reader, "degree", top=2)["nodes"]]
    found = k_shortest_paths(graph, hubs[0], hubs[1], 2)
    assert found.length is not None and found.exact


def test_a_saved_graph_serves_a_second_service(
    scenario: tuple[DuckDBStore, Any], service: GraphService
) -> None:
    graph = service.graph()
    other = GraphService(scenario[0]).graph()
    assert other.n_edges == graph.n_edges and len(other) == len(graph)
    assert np.array_equal(other.adj_node, graph.adj_node)
    assert (Path(scenario[0].path) / "graph" / "meta.json").exists()
