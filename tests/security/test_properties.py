"""Property-based access tests: random markings, random users, every read endpoint.

Each example marks the five demo datasets at random (a level and some compartments, now
and then none at all or one that cannot be read), makes a user with a random clearance,
and asks the API everything a reader can ask. The oracles are written here, apart from
the code under test:

- the visible datasets follow the rule of docs/security.md (clearance rank at least the
  dataset's, every compartment held; an unreadable marking is seen by no one);
- what the operator answered once, before any marking changed (statements, graph edges,
  places, runs), limited to those datasets, is what the user must get: no more, no less;
- where the API takes a ``dataset`` filter, the operator's answer with it is the oracle.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recoupe.api.app import create_app
from recoupe.config import Settings
from recoupe.security.identity import Identities
from recoupe.security.secret import ensure_secret
from recoupe.services.demo import run_demo

DATASETS = (
    "bank",
    "civil_registry",
    "companies",
    "telecom",
    "travel",
    "sante_hopitaux",
    "sante_cas",
    "sante_tracage",
    "territoires_fr",
)
LEVELS = ("NP", "DR", "S", "TS")
COMPARTMENTS = ("FININT", "HUMINT", "ORION")
UNMARKED = ""
UNREADABLE = "ZZ//ORION"
JUSTIFICATION = "tests%20de%20propri%C3%A9t%C3%A9s"
WORLD = {"south": -90.0, "west": -180.0, "north": 90.0, "east": 180.0}
PARIS = {"lat": 48.8566, "lon": 2.3522, "metres": 20_000.0}
PAGE = 1_000
PROBES_PER_DATASET = 4

Json = Any
Edge = tuple[str, str, str, str]
"""(source, target, kind, dataset) of a link-graph edge."""


@dataclass(repr=False)
class World:
    """The demo workspace served in process, and what the operator saw of it."""

    settings: Settings
    app: Any
    operator: TestClient
    markings: dict[str, str | None]
    datasets: dict[str, Json]
    runs: list[Json]
    rejected: dict[str, Json]
    rows: list[dict[str, str]]
    values: dict[tuple[str, str], set[str]]
    holders: dict[str, set[str]]
    edges: list[Edge]
    nodes: set[str]
    places: list[Json]
    near_paris: list[Json]
    probes: list[str]
    views: dict[str, Json]
    timelines: dict[str, Json]
    queries: list[str]
    users: Iterator[int] = field(default_factory=itertools.count)

    def __repr__(self) -> str:
        return f"World({self.settings.workspace})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """What hypothesis prints of the fixture when an example fails."""
        printer.text(repr(self))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    workspace = tmp_path_factory.mktemp("properties") / "ws"
    config = Settings(workspace=workspace, memory_limit="1GB", threads=2)
    run_demo(config, scale=1_000)
    ensure_secret(workspace)
    app = create_app(config)
    with TestClient(app, raise_server_exceptions=False) as operator:
        operator.headers["Authorization"] = f"Bearer {app.state.operator_token}"
        store = app.state.runtime.store
        original = store.markings()
        assert set(original) == set(DATASETS)
        try:
            yield _survey(config, app, operator, original)
        finally:
            for name, marking in original.items():
                store.set_marking(name, marking or UNMARKED)
        assert store.markings() == original


def _survey(
    config: Settings, app: Any, operator: TestClient, original: dict[str, str | None]
) -> World:
    """Everything the operator sees, asked once (the operator sees it whatever the marks)."""
    datasets = {d["name"]: d for d in _ok(operator.get("/api/datasets"))}
    runs = _ok(operator.get("/api/runs"))
    rejected = {r["run_id"]: _ok(operator.get(f"/api/runs/{r['run_id']}/rejected")) for r in runs}
    rows = _csv(_ok_file(operator.get("/api/export", params={"format": "csv"})).text)
    values: dict[tuple[str, str], set[str]] = defaultdict(set)
    holders: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        values[row["entity_id"], row["dataset"]].add(row["value"])
        holders[row["entity_id"]].add(row["dataset"])
    graph = _ok_file(operator.get("/api/graph/export", params={"format": "gexf"})).text
    edges = [(e["source"], e["target"], e["kind"], e["dataset"]) for e in _gexf_edges(graph)]
    nodes = {n.get("id", "") for n in ET.fromstring(graph).iter(_gexf("node"))}
    places = _places(operator, "/api/places/bbox", WORLD)[1]
    near_paris = _places(operator, "/api/places/radius", PARIS)[1]
    probes: list[str] = []
    for name in DATASETS:
        alone = sorted(e for e, held in holders.items() if held == {name})
        shared = sorted(e for e, held in holders.items() if name in held and len(held) > 1)
        linked = {s for s, _, _, d in edges if d == name} & set(alone)
        probes += alone[:1] + sorted(linked)[:1] + shared[: PROBES_PER_DATASET - 2]
    probes = [*sorted(set(probes)), "no-such-entity"]
    views = {p: operator.get(f"/api/entities/{p}").json() for p in probes}
    timelines = {
        p: operator.get(f"/api/entities/{p}/timeline", params={"limit": 1000}).json()
        for p in probes
    }
    person = next(r["value"] for r in rows if r["schema"] == "Person" and r["prop"] == "name")
    queries = ["", person, person.split()[-1], "Paris"]
    return World(
        config, app, operator, original, datasets, runs, rejected, rows, values, holders,
        edges, nodes, places, near_paris, probes, views, timelines, queries,
    )  # fmt: skip


# -- the oracle -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """A drawn marking: a level (or unmarked, or unreadable) and its compartments."""

    level: str | None
    compartments: frozenset[str]
    readable: bool = True

    @property
    def text(self) -> str:
        if not self.readable:
            return UNREADABLE
        if self.level is None:
            return UNMARKED
        if not self.compartments:
            return self.level
        return f"{self.level}//{'/'.join(sorted(self.compartments))}"

    @property
    def rank(self) -> int:
        return LEVELS.index(self.level) if self.level is not None else 0


@dataclass(frozen=True)
class Person:
    clearance: str
    compartments: frozenset[str]
    role: str


def visible_datasets(marks: dict[str, Mark], person: Person) -> set[str]:
    """The rule of docs/security.md, written again: rank at least, compartments held."""
    rank = LEVELS.index(person.clearance)
    return {
        name
        for name, mark in marks.items()
        if mark.readable and mark.rank <= rank and mark.compartments <= person.compartments
    }


def combined(marks: dict[str, Mark], names: set[str]) -> tuple[str, frozenset[str]]:
    """The highest level and every compartment of ``names`` (the lowest level if none)."""
    rank = max((marks[n].rank for n in names), default=0)
    held = frozenset().union(*(marks[n].compartments for n in names))
    return LEVELS[rank], held


def visible_edges(world: World, visible: set[str]) -> list[Edge]:
    """Edges of visible datasets; a shared value links only when two visible entities
    hold it (docs/security.md: the graph holds only what the reader may see)."""
    kept = [e for e in world.edges if e[3] in visible]
    holders: dict[str, set[str]] = defaultdict(set)
    for source, target, kind, _ in kept:
        if kind == "shared":
            holders[target].add(source)
    return [e for e in kept if e[2] != "shared" or len(holders[e[1]]) >= 2]


def adjacency(edges: list[Edge]) -> dict[str, set[str]]:
    links: dict[str, set[str]] = defaultdict(set)
    for source, target, _, _ in edges:
        links[source].add(target)
        links[target].add(source)
    return links


def distance(links: dict[str, set[str]], a: str, b: str) -> int | None:
    """Links on a shortest path from ``a`` to ``b`` (None: no path)."""
    seen = {a: 0}
    queue = deque([a])
    while queue:
        node = queue.popleft()
        if node == b:
            return seen[node]
        for other in links.get(node, ()):
            if other not in seen:
                seen[other] = seen[node] + 1
                queue.append(other)
    return None


# -- strategies -----------------------------------------------------------------------------

subsets = st.frozensets(st.sampled_from(COMPARTMENTS))
marks = st.one_of(
    st.builds(Mark, st.sampled_from(LEVELS), subsets),
    st.just(Mark(None, frozenset())),
    st.just(Mark(None, frozenset({"ORION"}), readable=False)),
)
markings = st.fixed_dictionaries({name: marks for name in DATASETS})
people = st.builds(Person, st.sampled_from(LEVELS), subsets, st.sampled_from(("viewer", "analyst")))


@dataclass
class Case:
    """One drawn example, applied to the workspace: the user's client and the oracle."""

    world: World
    marks: dict[str, Mark]
    person: Person
    client: TestClient
    visible: set[str]
    edges: list[Edge]
    links: dict[str, set[str]]

    def sees_entity(self, entity_id: str) -> bool:
        return bool(self.world.holders.get(entity_id, set()) & self.visible)

    def in_graph(self, entity_id: str) -> bool:
        """A node of the reader's graph: seen, or reached by a visible link (an interval,
        such as a directorship or a call, is an edge of the graph and never a node)."""
        if entity_id not in self.world.nodes:
            return False
        return self.sees_entity(entity_id) or bool(self.links.get(entity_id))

    def seen_values(self, entity_id: str) -> set[str]:
        found: set[str] = set()
        for name in self.visible:
            found |= self.world.values.get((entity_id, name), set())
        return found

    def restricted(self, path: str, params: dict[str, Any]) -> Json:
        """The operator's answer limited with ``dataset=`` to the visible datasets."""
        assert self.visible, "an empty dataset filter means every dataset"
        return _ok(
            self.world.operator.get(path, params={**params, "dataset": sorted(self.visible)})
        )


def _case(world: World, drawn: dict[str, Mark], person: Person) -> Case:
    store = world.app.state.runtime.store
    for name, mark in drawn.items():
        store.set_marking(name, mark.text)
    login = f"prop{next(world.users)}"
    ids = Identities(world.settings.workspace / "security.db", world.settings.scale)
    try:
        ids.add_user(
            login,
            roles=[person.role],
            clearance=person.clearance,
            compartments=sorted(person.compartments),
        )
        token = ids.issue_token(login)
    finally:
        ids.close()
    client = TestClient(world.app, raise_server_exceptions=False)
    client.headers["Authorization"] = f"Bearer {token}"
    client.headers["X-Recoupe-Justification"] = JUSTIFICATION
    visible = visible_datasets(drawn, person)
    edges = visible_edges(world, visible)
    return Case(world, drawn, person, client, visible, edges, adjacency(edges))


# -- the property ---------------------------------------------------------------------------


# random worlds per run; raise it for a deeper search (each one takes a few seconds)
EXAMPLES = int(os.environ.get("RECOUPE_PROPERTY_EXAMPLES", "10"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drawn=markings,
    person=people,
    probes=st.lists(st.integers(min_value=0), min_size=4, max_size=4),
    query=st.integers(min_value=0),
)
def test_nothing_invisible_ever_shows(
    world: World, drawn: dict[str, Mark], person: Person, probes: list[int], query: int
) -> None:
    case = _case(world, drawn, person)
    ids = [world.probes[i % len(world.probes)] for i in probes]
    check_datasets(case)
    check_runs(case)
    check_search(case, world.queries[query % len(world.queries)])
    check_search(case, "")
    for entity_id in ids:
        check_entity(case, entity_id)
        check_expand(case, entity_id)
        check_timeline(case, entity_id)
        check_near(case, entity_id)
    check_paths(case, ids[0], ids[1])
    check_paths(case, ids[2], ids[3])
    check_common(case, ids[0], ids[1])
    check_graph_summaries(case)
    check_places(case)
    check_exports(case)
    check_graph_export(case)


def test_a_reader_cleared_for_nothing_gets_empty_answers(world: World) -> None:
    # what the operator's answers leave in the graph caches must not serve this reader
    # (seeing every dataset and seeing none are different cache keys)
    for measure in ("degree", "pagerank", "betweenness"):
        _ok(world.operator.get("/api/graph/centrality", params={"measure": measure}))
    _ok(world.operator.get("/api/graph/communities"))
    hidden = {name: Mark("TS", frozenset({"ORION"})) for name in DATASETS}
    case = _case(world, hidden, Person("S", frozenset({"FININT"}), "viewer"))
    assert case.visible == set()
    check_datasets(case)
    check_runs(case)
    for q in world.queries:
        check_search(case, q)
    for entity_id in world.probes:
        check_entity(case, entity_id)
        check_expand(case, entity_id)
        check_timeline(case, entity_id)
    check_graph_summaries(case)
    check_places(case)
    check_exports(case)
    check_graph_export(case)


# -- one check per endpoint -----------------------------------------------------------------


def check_datasets(case: Case) -> None:
    listed = _ok(case.client.get("/api/datasets"))
    assert {d["name"] for d in listed} == case.visible
    for d in listed:
        whole = case.world.datasets[d["name"]]
        assert (d["statements"], d["entities"]) == (whole["statements"], whole["entities"])
        assert d["marking"] == case.marks[d["name"]].text
    missing = case.client.get("/api/datasets/no-such-dataset")
    for name in set(DATASETS) - case.visible:
        answer = case.client.get(f"/api/datasets/{name}")
        assert answer.status_code == 404, name
        assert _unnamed(answer, name) == _unnamed(missing, "no-such-dataset")
    for name in case.visible:
        assert case.client.get(f"/api/datasets/{name}").status_code == 200


def check_runs(case: Case) -> None:
    runs = _ok(case.client.get("/api/runs"))
    expected = [r for r in case.world.runs if r["dataset"] in case.visible]
    assert sorted(r["run_id"] for r in runs) == sorted(r["run_id"] for r in expected)
    for run in case.world.runs:
        one = case.client.get(f"/api/runs/{run['run_id']}")
        rejected = case.client.get(f"/api/runs/{run['run_id']}/rejected")
        if run["dataset"] in case.visible:
            assert one.json() == run
            assert rejected.json() == case.world.rejected[run["run_id"]]
        else:
            assert (one.status_code, rejected.status_code) == (404, 404), run["run_id"]
            assert run["dataset"] not in rejected.text
            by_dataset = case.client.get("/api/runs", params={"dataset": run["dataset"]})
            assert by_dataset.status_code == 404


def check_search(case: Case, q: str) -> None:
    params = {"q": q, "limit": 100}
    answer = _ok(case.client.get("/api/search", params=params))
    for hit in answer["results"]:
        assert set(hit["datasets"]) <= case.visible, (q, hit)
        assert case.sees_entity(hit["id"]), (q, hit["id"])
    for value in answer["facets"].get("dataset", []):
        assert value["value"] in case.visible, (q, value)
    if not case.visible:
        assert answer["total"] == 0 and answer["results"] == []
        assert all(v["count"] == 0 for f in answer["facets"].values() for v in f)
        return
    oracle = case.restricted("/api/search", params)
    assert answer["total"] == oracle["total"], q
    assert [h["id"] for h in answer["results"]] == [h["id"] for h in oracle["results"]], q
    assert answer["facets"] == oracle["facets"], q
    for mine, theirs in zip(answer["results"], oracle["results"], strict=True):
        assert mine["highlights"] == theirs["highlights"], (q, mine["id"])
        assert mine["names"] == theirs["names"], (q, mine["id"])
        assert mine["caption"] == theirs["caption"], (q, mine["id"])
    if q == "":
        everything = {e for e, held in case.world.holders.items() if held & case.visible}
        assert answer["total"] == len(everything) and answer["total_exact"]
        by_dataset = {v["value"]: v["count"] for v in answer["facets"]["dataset"]}
        for name in case.visible:
            assert by_dataset.get(name, 0) == case.world.datasets[name]["entities"]
    for name in set(DATASETS) - case.visible:
        hidden = case.client.get("/api/search", params={"q": q, "dataset": name})
        assert hidden.status_code == 404, name


def check_entity(case: Case, entity_id: str) -> None:
    answer = case.client.get(f"/api/entities/{entity_id}")
    if not case.sees_entity(entity_id):
        assert answer.status_code == 404, entity_id
        missing = case.client.get("/api/entities/no-such-entity")
        assert _unnamed(answer, entity_id) == _unnamed(missing, "no-such-entity")
        for name in DATASETS:
            assert name not in answer.text
        return
    view = _ok(answer)
    statements = view["statements"]
    assert {s["dataset"] for s in statements} <= case.visible
    whole = case.world.views[entity_id]["statements"]
    assert Counter(map(_frozen, statements)) == Counter(
        _frozen(s) for s in whole if s["dataset"] in case.visible
    )
    seen = case.seen_values(entity_id)
    for prop, values in view["properties"].items():
        assert set(values) <= seen, (entity_id, prop)
    datasets = case.world.holders[entity_id] & case.visible
    assert set(view["datasets"]) == datasets
    level, compartments = combined(case.marks, datasets)
    assert (view["level"], set(view["compartments"])) == (level, compartments)


def check_expand(case: Case, entity_id: str) -> None:
    answer = case.client.get("/api/graph/expand", params={"id": entity_id, "cap": 100_000})
    linked = case.links.get(entity_id, set())
    if not case.in_graph(entity_id):
        assert answer.status_code == 404, entity_id
        return
    sub = _ok(answer)
    assert not sub["capped"] and sub["omitted_edges"] == 0
    nodes = {n["id"] for n in sub["nodes"]}
    assert nodes == {entity_id} | linked, entity_id
    edges = Counter(_edge(e) for e in sub["edges"])
    inside = Counter(e for e in case.edges if e[0] in nodes and e[1] in nodes)
    assert edges == inside, entity_id
    check_nodes(case, sub["nodes"])
    if case.visible and case.visible != set(DATASETS):
        oracle = case.restricted("/api/graph/expand", {"id": entity_id, "cap": 100_000})
        assert nodes <= {n["id"] for n in oracle["nodes"]}


def check_nodes(case: Case, nodes: list[Json]) -> None:
    """Node captions come from visible statements (or are the bare id or value)."""
    for node in nodes:
        if node["kind"] != "entity":
            continue
        caption = node["caption"]
        if caption != node["id"]:
            assert caption in case.seen_values(node["id"]), node
        if not case.sees_entity(node["id"]):
            assert node["schema"] is None, node


def check_paths(case: Case, a: str, b: str) -> None:
    answer = case.client.get("/api/graph/paths", params={"source": a, "target": b, "k": 3})
    if not (case.in_graph(a) and case.in_graph(b)):
        assert answer.status_code == 404, (a, b)
        return
    found = _ok(answer)
    expected = distance(case.links, a, b)
    assert found["length"] == expected, (a, b)
    allowed = Counter(case.edges)
    for path in found["paths"]:
        assert path["nodes"][0] == a and path["nodes"][-1] == b
        assert path["length"] == len(path["edges"]) >= expected  # type: ignore[operator]
        for edge in path["edges"]:
            assert allowed[_edge(edge)] > 0, edge
    check_nodes(case, found["nodes"])


def check_common(case: Case, a: str, b: str) -> None:
    if a == b:
        return
    answer = case.client.get("/api/graph/common", params={"id": [a, b]})
    if not (case.in_graph(a) and case.in_graph(b)):
        assert answer.status_code == 404, (a, b)
        return
    sub = _ok(answer)
    shared = case.links.get(a, set()) & case.links.get(b, set())
    assert {n["id"] for n in sub["nodes"]} - {a, b} == shared - {a, b}, (a, b)
    allowed = Counter(case.edges)
    for edge in sub["edges"]:
        assert allowed[_edge(edge)] > 0, edge
    check_nodes(case, sub["nodes"])


def check_graph_summaries(case: Case) -> None:
    degree = Counter[str]()
    for source, target, _, _ in case.edges:
        degree[source] += 1
        degree[target] += 1
    top = _ok(case.client.get("/api/graph/centrality", params={"measure": "degree", "top": 20}))
    scores = sorted(degree.values(), reverse=True)[:20]
    assert [n["score"] for n in top["nodes"] if n["score"] > 0] == scores
    for node in top["nodes"]:
        assert node["score"] == degree.get(node["id"], 0), node
    check_nodes(case, top["nodes"])
    for measure in ("pagerank", "betweenness"):
        ranked = _ok(case.client.get("/api/graph/centrality", params={"measure": measure}))
        for node in ranked["nodes"]:
            assert node["id"] in degree or node["score"] == 0, (measure, node)
        check_nodes(case, ranked["nodes"])
    groups = _ok(case.client.get("/api/graph/communities", params={"top": 50}))
    assert sum(c["size"] for c in groups["communities"]) <= len(degree)
    for group in groups["communities"]:
        for member in group["members"]:
            assert member["id"] in degree, member
        check_nodes(case, group["members"])


def check_timeline(case: Case, entity_id: str) -> None:
    answer = case.client.get(f"/api/entities/{entity_id}/timeline", params={"limit": 1000})
    if not case.sees_entity(entity_id):
        assert answer.status_code == 404, entity_id
        return
    page = _ok(answer)
    whole = case.world.timelines[entity_id]
    for item in page["items"]:
        assert item["dataset"] in case.visible, item
        for key, caption in (("subject", "subject_caption"), ("other", "other_caption")):
            if item[caption] is not None and item[caption] != item[key]:
                assert item[caption] in case.seen_values(item[key]), (key, item)
    expected = [i for i in whole["items"] if i["dataset"] in case.visible]
    assert Counter(map(_event, page["items"])) == Counter(map(_event, expected)), entity_id
    assert page["total"] == len(page["items"])
    histogram = _ok(case.client.get("/api/timeline/histogram", params={"id": entity_id}))
    events = [i for i in page["items"] if i["kind"] != "statement"]
    assert sum(b["count"] for b in histogram["buckets"]) <= len(page["items"])
    assert sum(b["count"] for b in histogram["buckets"]) >= len(events) or not events


def check_near(case: Case, entity_id: str) -> None:
    answer = case.client.get(f"/api/entities/{entity_id}/near", params={"minutes": 120})
    if not case.sees_entity(entity_id):
        assert answer.status_code == 404, entity_id
        return
    for neighbour in _ok(answer)["neighbours"]:
        assert case.sees_entity(neighbour["entity_id"]), neighbour
        for name in DATASETS:
            if name not in case.visible:
                assert f'"{name}"' not in json.dumps(neighbour), (name, neighbour)


def check_places(case: Case) -> None:
    """A place row joins a link and the coordinates it points at; the reader sees the row
    when both sources are visible, listing the datasets of the rows kept. The operator's
    aggregate bounds the answer: a place all of whose datasets are visible comes back
    whole; any other comes back with visible datasets only, or not at all."""
    for path, params, whole in (
        ("/api/places/bbox", WORLD, case.world.places),
        ("/api/places/radius", PARIS, case.world.near_paris),
    ):
        total, found = _places(case.client, path, params)
        assert total == len(found), path
        everything = {_place(p): set(p["datasets"]) for p in whole}
        got = {_place(p): set(p["datasets"]) for p in found}
        assert len(got) == len(found), path
        for key, datasets in everything.items():
            if datasets <= case.visible:
                assert got.get(key) == datasets, (path, key)
        for key, datasets in got.items():
            assert key in everything, (path, key)
            assert datasets and datasets <= everything[key] & case.visible, (path, key)
            assert case.sees_entity(key[0]), (path, key)
        for place in found:
            if place["caption"] not in (None, place["entity_id"]):
                assert place["caption"] in case.seen_values(place["entity_id"]), place


def check_exports(case: Case) -> None:
    level, compartments = combined(case.marks, case.visible)
    rows: list[dict[str, str]] = []
    for fmt in ("csv", "ftm", "gexf"):
        answer = _ok_file(case.client.get("/api/export", params={"format": fmt}))
        marking = answer.headers["X-Recoupe-Marking"]
        head, _, tail = marking.partition("//")
        assert (head, set(filter(None, tail.split("/")))) == (level, compartments), marking
        for name in case.visible:
            assert LEVELS.index(head) >= case.marks[name].rank, (marking, name)
        if fmt == "csv":
            rows = _csv(answer.text)
        elif fmt == "ftm":
            check_ftm(case, answer.text)
        else:
            check_store_gexf(case, answer.text)
    expected = [r for r in case.world.rows if r["dataset"] in case.visible]
    assert len(rows) == len(expected)
    assert {r["dataset"] for r in rows} <= case.visible
    assert Counter(map(_frozen, rows)) == Counter(map(_frozen, expected))


def check_ftm(case: Case, text: str) -> None:
    entities = [json.loads(line) for line in text.splitlines() if line.strip()]
    expected = {e for e, held in case.world.holders.items() if held & case.visible}
    assert len(entities) == len(expected)
    assert {e["id"] for e in entities} == expected
    for entity in entities:
        assert set(entity["datasets"]) == case.world.holders[entity["id"]] & case.visible
        seen = case.seen_values(entity["id"])
        for prop, values in entity["properties"].items():
            assert set(values) <= seen, (entity["id"], prop)


def check_store_gexf(case: Case, text: str) -> None:
    root = ET.fromstring(text)
    for node in root.iter(_gexf("node")):
        node_id = node.get("id", "")
        assert case.sees_entity(node_id), node_id
        label = node.get("label")
        if label not in (None, node_id):
            assert label in case.seen_values(node_id), (node_id, label)


def check_graph_export(case: Case) -> None:
    answer = _ok_file(case.client.get("/api/graph/export", params={"format": "gexf"}))
    edges = [(e["source"], e["target"], e["kind"], e["dataset"]) for e in _gexf_edges(answer.text)]
    assert Counter(edges) == Counter(case.edges)
    root = ET.fromstring(answer.text)
    ends = {e[0] for e in case.edges} | {e[1] for e in case.edges}
    nodes = root.iter(_gexf("node"))
    assert {n.get("id") for n in nodes} == ends
    for fmt in ("graphml", "cypher"):
        text = _ok_file(case.client.get("/api/graph/export", params={"format": fmt})).text
        for name in set(DATASETS) - case.visible:
            assert name not in text, (fmt, name)


# -- helpers --------------------------------------------------------------------------------


def _ok(answer: Any) -> Json:
    assert answer.status_code == 200, (answer.request.url, answer.status_code, answer.text)
    return answer.json()


def _ok_file(answer: Any) -> Any:
    assert answer.status_code == 200, (answer.request.url, answer.status_code, answer.text)
    return answer


def _places(client: TestClient, path: str, params: dict[str, float]) -> tuple[int, list[Json]]:
    """(total, every place) of a places query, page after page."""
    found: list[Json] = []
    while True:
        page = _ok(client.get(path, params={**params, "limit": PAGE, "offset": len(found)}))
        found += page["places"]
        if not page["places"] or len(found) >= page["total"]:
            return page["total"], found


def _unnamed(answer: Any, name: str) -> tuple[int, str]:
    """A 404's status and body with the name asked for taken out."""
    return answer.status_code, answer.text.replace(name, "NAME")


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _frozen(record: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in record.items()))


def _edge(edge: Json) -> Edge:
    return edge["source"], edge["target"], edge["kind"], edge["dataset"]


def _event(item: Json) -> tuple[Any, ...]:
    return tuple(item.get(k) for k in ("date", "kind", "schema", "prop", "subject", "event_id"))


def _place(place: Json) -> tuple[str, str, float, float]:
    return place["entity_id"], place["place_id"], place["lat"], place["lon"]


GEXF = "{http://gexf.net/1.3}"


def _gexf(tag: str) -> str:
    return GEXF + tag


def _gexf_edges(text: str) -> list[dict[str, str]]:
    root = ET.fromstring(text)
    found = []
    for edge in root.iter(_gexf("edge")):
        record = {"source": edge.get("source", ""), "target": edge.get("target", "")}
        for value in edge.iter(_gexf("attvalue")):
            record[value.get("for", "")] = value.get("value", "")
        found.append(record)
    return found
