"""The link graph of a real store: shared values, filters, access, exports and the cache."""

from __future__ import annotations

import io
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from recoupe.errors import ConfigError, NotFound
from recoupe.graph import GraphData
from recoupe.ontology import entity_id
from recoupe.security.reader import Decision, Reader
from recoupe.services.graph import GraphService
from recoupe.services.ingest import ingest_mapping
from recoupe.store import DuckDBStore
from tests.conftest import write

PEOPLE = """\
id,name,phone,passport
1,"Jean ""JJ"" <Dupont> & Co's",06 12 34 56 78,12AB34567
2,Marie Curie,06 11 22 33 44,
3,Ahmed Benali,,12AB34567
4,Lonely Person,06 99 99 99 99,
"""
SUBSCRIBERS = """\
msisdn,subscriber_id,holder_name
0612345678,S1,J. Dupont
0611223344,S2,M. Curie
0655555555,S3,Olga Ivanova
"""
CALLS = """\
call_id,caller,callee,start_time,cell
C1,0612345678,0611223344,2024-01-10T10:00:00,CELL1
C2,0611223344,0655555555,2024-03-05T12:00:00,CELL1
C3,0612345678,0655555555,2024-06-01T08:00:00,CELL2
"""
ACCOUNTS = """\
iban,customer_id,holder_name
FR7630006000011234567890189,{customer},{name}
"""
REGISTRY = """\
registry:
  title: Registry
  queries:
    - csv_url: people.csv
      countries: [fr]
      entities:
        person:
          schema: Person
          keys: [id]
          key_literal: person
          properties:
            name: {column: name, required: true}
            phone: {column: phone}
            passportNumber: {column: passport}
"""
TELECOM = """\
telecom:
  title: Telecom
  queries:
    - csv_url: subscribers.csv
      countries: [fr]
      entities:
        line:
          schema: Phone
          keys: [msisdn]
          key_literal: phone
          properties:
            number: {column: msisdn, required: true}
            owner: {entity: holder}
        holder:
          schema: Person
          keys: [subscriber_id]
          key_literal: subscriber
          properties:
            name: {column: holder_name, required: true}
    - csv_url: calls.csv
      countries: [fr]
      entities:
        call:
          schema: PhoneCall
          keys: [call_id]
          key_literal: call
          properties:
            callerPhone: {entity: caller}
            receiverPhone: {entity: callee}
            callerCell: {entity: cell}
            callerNumber: {column: caller}
            receiverNumber: {column: callee}
            date: {column: start_time}
        caller:
          schema: Phone
          keys: [caller]
          key_literal: phone
          properties:
            number: {column: caller, required: true}
        callee:
          schema: Phone
          keys: [callee]
          key_literal: phone
          properties:
            number: {column: callee, required: true}
        cell:
          schema: CellTower
          keys: [cell]
          key_literal: cell
          properties:
            cellId: {column: cell, required: true}
"""
BANK = """\
{name}:
  title: Bank {name}
  queries:
    - csv_url: accounts.csv
      entities:
        account:
          schema: BankAccount
          keys: [iban]
          key_literal: {name}-account
          properties:
            iban: {{column: iban, required: true}}
        holder:
          schema: Person
          keys: [customer_id]
          key_literal: {name}-customer
          properties:
            name: {{column: holder_name, required: true}}
        holding:
          schema: Ownership
          keys: [customer_id, iban]
          key_literal: {name}-holding
          properties:
            owner: {{entity: holder}}
            asset: {{entity: account}}
"""
IBAN = "FR7630006000011234567890189"


def person(key: str) -> str:
    found = entity_id("person", [key])
    assert found is not None
    return found


def line(msisdn: str) -> str:
    found = entity_id("phone", [msisdn])
    assert found is not None
    return found


def ingest(store: DuckDBStore, root: Path, name: str, files: dict[str, str], spec: str) -> None:
    for file, text in files.items():
        write(root / name / file, text)
    ingest_mapping(store, write(root / name / "mapping.yml", spec))


def load_all(store: DuckDBStore, root: Path) -> None:
    ingest(store, root, "registry", {"people.csv": PEOPLE}, REGISTRY)
    ingest(store, root, "telecom", {"subscribers.csv": SUBSCRIBERS, "calls.csv": CALLS}, TELECOM)
    for bank, customer, name in (("bank_a", "A1", "Jean Dupont"), ("bank_b", "B7", "J Dupont")):
        accounts = ACCOUNTS.format(customer=customer, name=name)
        ingest(store, root, bank, {"accounts.csv": accounts}, BANK.format(name=bank))


@pytest.fixture
def service(store: DuckDBStore, tmp_path: Path) -> GraphService:
    load_all(store, tmp_path / "sources")
    return GraphService(store)


@dataclass(frozen=True)
class Limited(Reader):
    """A reader kept out of some datasets."""

    hidden: frozenset[str] = frozenset()

    def can_see(self, dataset: str, marking: str | None) -> Decision:
        if dataset in self.hidden:
            return Decision(False, f"{self.name} may not see {dataset}")
        return Decision(True, f"{self.name} may see {dataset}")


def ids(result: dict[str, Any]) -> set[str]:
    return {n["id"] for n in result["nodes"]}


def test_shared_phone_iban_and_passport_link_records(service: GraphService, reader: Reader) -> None:
    graph = service.graph()
    phone = graph.index_of("phone:+33612345678")
    assert graph.node_records([phone])[0] == {
        "id": "phone:+33612345678",
        "kind": "value",
        "schema": "phone",
        "caption": "+33612345678",
    }
    found = service.expand(reader, ["phone:+33612345678"], 1)
    assert ids(found) == {"phone:+33612345678", person("1"), line("0612345678")}
    assert {(e["kind"], e["prop"]) for e in found["edges"]} == {
        ("shared", "phone"),
        ("shared", "number"),
    }
    iban = service.expand(reader, [f"iban:{IBAN}"], 1)
    schemata = sorted(n["schema"] for n in iban["nodes"])
    assert schemata == ["BankAccount", "BankAccount", "iban"]
    passport = service.expand(reader, ["identifier:12AB34567"], 1)
    assert ids(passport) == {"identifier:12AB34567", person("1"), person("3")}
    assert graph.find("phone:+33699999999") == -1  # one holder: no shared value
    with pytest.raises(NotFound, match="phone:\\+33699999999"):
        service.expand(reader, ["phone:+33699999999"], 1)


def test_calls_are_edges_and_their_towers_are_left_out(
    service: GraphService, reader: Reader
) -> None:
    graph = service.graph()
    records = graph.node_records(np.arange(len(graph)))
    assert not [r for r in records if r["schema"] in ("PhoneCall", "CellTower")]
    calls = [e for e in graph.edge_records(np.arange(graph.n_edges)) if e["schema"] == "PhoneCall"]
    assert len(calls) == 3
    assert all(c["kind"] == "edge" and c["entity_id"] and c["dataset"] == "telecom" for c in calls)
    assert {c["start"] for c in calls} == {"2024-01-10", "2024-03-05", "2024-06-01"}
    assert all(c["end"] == c["start"] for c in calls)  # a call ends the day it starts


def test_expand_by_depth_with_filters_and_a_cap(service: GraphService, reader: Reader) -> None:
    jean = person("1")
    assert len(service.expand(reader, [jean], 0)["nodes"]) == 1
    one = service.expand(reader, [jean], 1)
    assert ids(one) == {jean, "phone:+33612345678", "identifier:12AB34567"}
    three = service.expand(reader, [jean], 3)
    assert {line("0611223344"), line("0655555555")} <= ids(three)
    calls = service.expand(reader, [line("0612345678")], 1, schema=["PhoneCall"])
    assert ids(calls) == {line("0612345678"), line("0611223344"), line("0655555555")}
    june = service.expand(reader, [line("0612345678")], 1, schema="PhoneCall", since="2024-05")
    assert ids(june) == {line("0612345678"), line("0655555555")}
    window = {"schemata": ["Interval"], "until": "2024-01"}
    january = service.expand(reader, [line("0612345678")], 1, filters=window)
    assert ids(january) == {line("0612345678"), line("0611223344")}
    registry = service.expand(reader, [jean], 3, dataset=["registry"])
    assert ids(registry) == ids(one) | {person("3")}
    assert {e["dataset"] for e in registry["edges"]} == {"registry"}
    capped = service.expand(reader, [jean], 3, cap=3)
    assert len(capped["nodes"]) == 3 and capped["capped"] and capped["omitted"] >= 1
    assert not three["capped"]


def test_bad_parameters_name_themselves(service: GraphService, reader: Reader) -> None:
    jean = person("1")
    for call, name in (
        (lambda: service.expand(reader, [jean], 99), "depth"),
        (lambda: service.expand(reader, [jean], 1, cap=0), "cap"),
        (lambda: service.expand(reader, [], 1), "ids"),
        (lambda: service.expand(reader, [jean], 1, since="yesterday"), "since"),
        (lambda: service.expand(reader, [jean], 1, since="2024-02", until="2024-01"), "since"),
        (lambda: service.expand(reader, [jean], 1, until="2024-13"), "until"),
        (lambda: service.expand(reader, [jean], 1, schema=["Nope"]), "schemata"),
        (lambda: service.expand(reader, [jean], 1, kind=["loose"]), "kinds"),
        (lambda: service.expand(reader, [jean], 1, colour="red"), "colour"),
        (lambda: service.paths(reader, jean, jean, k=0), "k"),
        (lambda: service.common(reader, [jean]), "ids"),
        (lambda: service.centrality(reader, "fame"), "measure"),
        (lambda: service.communities(reader, top=0), "top"),
        (lambda: service.export(reader, "dot", io.BytesIO()), "format"),
    ):
        with pytest.raises(ConfigError, match=name):
            call()
    with pytest.raises(NotFound, match="nobody"):
        service.paths(reader, jean, "nobody")
    with pytest.raises(NotFound, match="secret"):
        service.expand(reader, [jean], 1, dataset=["secret"])


def test_paths_between_records_of_different_sources(service: GraphService, reader: Reader) -> None:
    olga = entity_id("subscriber", ["S3"])
    assert olga is not None
    found = service.paths(reader, person("1"), olga)
    assert found["length"] == 4 and found["exact"]
    (path,) = found["paths"]
    assert path["nodes"][0] == person("1") and path["nodes"][-1] == olga
    assert [e["kind"] for e in path["edges"]] == ["shared", "shared", "edge", "property"]
    several = service.paths(reader, person("1"), olga, k=3)
    lengths = [p["length"] for p in several["paths"]]
    assert lengths == sorted(lengths) and lengths[0] == 4 and len(lengths) >= 2
    lonely = person("4")
    with pytest.raises(NotFound):  # no link at all: not a node of the graph
        service.paths(reader, person("1"), lonely)
    none = service.paths(reader, person("1"), entity_id("bank_b-customer", ["B7"]) or "")
    assert none["length"] is None and none["paths"] == []


def test_common_neighbours(service: GraphService, reader: Reader) -> None:
    found = service.common(reader, [person("1"), person("3")])
    assert ids(found) == {person("1"), person("3"), "identifier:12AB34567"}
    assert len(found["edges"]) == 2


def test_communities_and_centrality(service: GraphService, reader: Reader) -> None:
    found = service.communities(reader, top=3, sample=2)
    assert found["count"] >= 2
    sizes = [c["size"] for c in found["communities"]]
    assert sizes == sorted(sizes, reverse=True)
    assert all(len(c["members"]) <= 2 for c in found["communities"])
    mine = service.community_of(reader, person("1"))
    same = service.community_of(reader, "phone:+33612345678")
    assert mine["community"] is not None and mine["size"] >= 2
    assert mine["community"] == same["community"]
    for measure in ("degree", "pagerank", "betweenness"):
        top = service.centrality(reader, measure, top=3)
        scores = [n["score"] for n in top["nodes"]]
        assert scores == sorted(scores, reverse=True) and len(scores) == 3
    degree = service.centrality(reader, "degree", top=1)["nodes"][0]
    assert degree["id"] in {line("0612345678"), line("0611223344"), line("0655555555")}


def test_a_reader_sees_only_their_datasets(service: GraphService, store: DuckDBStore) -> None:
    outsider = Limited("outsider", hidden=frozenset({"telecom"}))
    jean = person("1")
    found = service.expand(outsider, [jean], 3)
    assert "phone:+33612345678" not in ids(found)  # its other holder is in telecom
    assert all(e["dataset"] != "telecom" for e in found["edges"])
    assert "identifier:12AB34567" in ids(found)
    with pytest.raises(NotFound):
        service.expand(outsider, [line("0612345678")], 1)
    with pytest.raises(NotFound, match="telecom"):
        service.expand(outsider, [jean], 1, dataset=["telecom"])
    banker = Limited("banker", hidden=frozenset({"registry", "telecom", "bank_b"}))
    account = entity_id("bank_a-account", [IBAN])
    seen = service.expand(banker, [account or ""], 2)
    assert f"iban:{IBAN}" not in ids(seen)
    assert {n["caption"] for n in seen["nodes"]} == {IBAN, "Jean Dupont"}
    everything = service.communities(Reader.system())["count"]
    assert service.communities(banker)["count"] < everything


def test_exports_parse_and_escape(service: GraphService, reader: Reader, tmp_path: Path) -> None:
    jean = person("1")
    name = 'Jean "JJ" <Dupont> & Co\'s'
    for fmt in ("gexf", "graphml"):
        out = io.BytesIO()
        counts = service.export(reader, fmt, out, ids=[jean], depth=2)
        root = ET.fromstring(out.getvalue())
        nodes = [e for e in root.iter() if e.tag.endswith("}node")]
        edges = [e for e in root.iter() if e.tag.endswith("}edge")]
        assert (len(nodes), len(edges)) == (counts["nodes"], counts["edges"])
        assert jean in {n.get("id") for n in nodes}
        if fmt == "gexf":
            assert name in {n.get("label") for n in nodes}
        else:
            assert name in {d.text for d in root.iter() if d.get("key") == "label"}
    path = tmp_path / "out" / "graph.cypher"
    counts = service.export(reader, "cypher", path)
    text = path.read_text(encoding="utf-8")
    assert text.count("MERGE (n:Recoupe") == counts["nodes"]
    assert text.count("CREATE (a)-[") == counts["edges"] == service.graph().n_edges
    assert "'Jean \"JJ\" <Dupont> & Co\\'s'" in text
    whole = io.BytesIO()
    service.export(reader, "gexf", whole, schema=["PhoneCall"])
    calls = [e for e in ET.fromstring(whole.getvalue()).iter() if e.tag.endswith("}edge")]
    assert len(calls) == 3


def test_the_saved_graph_is_reloaded_and_a_new_import_makes_it_stale(
    service: GraphService, store: DuckDBStore, reader: Reader, tmp_path: Path
) -> None:
    graph = service.graph()
    assert (store.path / "graph" / "meta.json").exists()
    assert service.status()["stale"] is False
    again = GraphService(store).graph()
    assert isinstance(again.src, np.memmap)
    assert again.generation == graph.generation == store.generation()
    for name in ("src", "dst", "edge_kind", "edge_start", "node_schema"):
        assert np.array_equal(getattr(again, name), getattr(graph, name))
    assert again.node_records(np.arange(len(again))) == graph.node_records(np.arange(len(graph)))
    more = PEOPLE.replace("4,Lonely Person", "4,No Longer Lonely").replace(
        "06 99 99 99 99", "06 55 55 55 55"
    )
    ingest(store, tmp_path / "more", "registry", {"people.csv": more}, REGISTRY)
    assert service.status()["stale"] is True
    fresh = service.graph()
    assert fresh.generation == store.generation() > graph.generation
    assert fresh.find("phone:+33655555555") >= 0
    assert GraphData.read_meta(store.path / "graph") is not None
    leftovers = [p.name for p in store.path.iterdir() if p.name.startswith(".graph-")]
    assert leftovers == []
    rebuilt = service.refresh(rebuild=True)
    assert rebuilt.generation == fresh.generation and rebuilt.n_edges == fresh.n_edges


def test_an_empty_store_has_an_empty_graph(store: DuckDBStore, reader: Reader) -> None:
    service = GraphService(store)
    graph = service.graph()
    assert (len(graph), graph.n_edges) == (0, 0)
    with pytest.raises(NotFound, match="anyone"):
        service.expand(reader, ["anyone"], 1)
    assert service.communities(reader)["communities"] == []
    assert service.centrality(reader, "pagerank")["nodes"] == []
    out = io.BytesIO()
    assert service.export(reader, "graphml", out)["nodes"] == 0
    ET.fromstring(out.getvalue())


def test_threads_query_while_the_graph_is_rebuilt(service: GraphService, reader: Reader) -> None:
    jean = person("1")
    expected = ids(service.expand(reader, [jean], 2))
    errors: list[BaseException] = []

    def query() -> None:
        try:
            for _ in range(10):
                assert ids(service.expand(reader, [jean], 2)) == expected
                assert service.paths(reader, jean, person("3"))["length"] == 2
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=query) for _ in range(3)]
    for thread in threads:
        thread.start()
    service.refresh(rebuild=True)
    for thread in threads:
        thread.join()
    assert errors == []
