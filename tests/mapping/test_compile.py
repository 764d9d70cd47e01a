"""The compiled SQL behaves like FollowTheMoney's mapping, in columns."""

from __future__ import annotations

from pathlib import Path

import duckdb
from followthemoney.types import registry
from hypothesis import given, settings
from hypothesis import strategies as st

from recoupe.mapping.clean import Cleaner, fast_path
from recoupe.ontology import entity_id
from recoupe.security.reader import Reader
from recoupe.services.ingest import ingest_mapping
from recoupe.store import DuckDBStore
from tests.conftest import write

CON = duckdb.connect()


def accepted(cleaner: Cleaner, value: str) -> bool:
    expr = fast_path(cleaner, "raw")
    assert expr is not None
    row = CON.execute(f"SELECT coalesce({expr}, false) FROM (SELECT ?::VARCHAR AS raw)", [value])
    result = row.fetchone()
    return bool(result and result[0])


TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20
)
DATES = st.from_regex(
    r"\A(1[0-9]|20)[0-9]{2}-[0-9]{2}-[0-9]{2}(T[0-2][0-9]:[0-5][0-9](:[0-5][0-9])?)?\Z"
)


@settings(max_examples=300, deadline=None)
@given(TEXT | st.from_regex(r"\A[ -~]{1,12}\Z"))
def test_text_fast_paths_agree_with_ftm(value: str) -> None:
    for type_name in ("string", "text", "identifier", "number", "name"):
        cleaner = Cleaner(type_name)
        if accepted(cleaner, value):
            assert registry[type_name].clean(value) == value, (type_name, value)


@settings(max_examples=300, deadline=None)
@given(DATES | TEXT)
def test_date_fast_path_agrees_with_ftm(value: str) -> None:
    if accepted(Cleaner("date"), value):
        assert registry.date.clean(value) == value


def test_no_fast_path_with_a_format() -> None:
    assert fast_path(Cleaner("date", "%d/%m/%Y"), "raw") is None
    assert fast_path(Cleaner("phone"), "raw") is None


def test_template_join_split_literal(store: DuckDBStore, tmp_path: Path) -> None:
    write(
        tmp_path / "p.csv",
        "id,first,last,tags,street,city\n1,Jean,Dupont,a| b ||c,3 rue X,Lyon\n2,,Solo,,,\n",
    )
    path = write(
        tmp_path / "m.yml",
        "d:\n  queries:\n    - csv_url: p.csv\n      entities:\n"
        "        p:\n          schema: Person\n          keys: [id, last]\n"
        "          key_literal: k\n          properties:\n"
        "            name: {template: '{{first}} {{last}}'}\n"
        "            alias: {columns: [last, first], join: ', '}\n"
        "            keywords: {column: tags, split: '|'}\n"
        "            topics: {literal: role.pep}\n"
        "            address: {columns: [street, city], join: ' - '}\n",
    )
    run = ingest_mapping(store, path)
    assert run.rows_loaded == 2
    jean = store.entity(Reader.system(), entity_id("k", ["1", "Dupont"]) or "")
    assert jean is not None
    assert jean.properties() == {
        "address": ["3 rue X - Lyon"],
        "alias": ["Dupont, Jean"],
        "keywords": ["a", "b", "c"],
        "name": ["Jean Dupont"],
        "topics": ["role.pep"],
    }
    solo = store.entity(Reader.system(), entity_id("k", ["2", "Solo"]) or "")
    assert solo is not None
    assert solo.properties() == {"alias": ["Solo"], "name": ["Solo"], "topics": ["role.pep"]}


def test_id_column_and_entity_references(store: DuckDBStore, tmp_path: Path) -> None:
    write(tmp_path / "d.csv", "pid,cid,name,company,role\nP1,C1,Ana,ACME,CEO\nP2,C1,Bo,ACME,CFO\n")
    path = write(
        tmp_path / "m.yml",
        "d:\n  queries:\n    - csv_url: d.csv\n      entities:\n"
        "        p:\n          schema: Person\n          id_column: pid\n"
        "          properties: {name: name}\n"
        "        c:\n          schema: Company\n          id_column: cid\n"
        "          properties: {name: company}\n"
        "        d:\n          schema: Directorship\n          keys: [pid, cid]\n"
        "          properties:\n            director: {entity: p}\n"
        "            organization: {entity: c}\n            role: role\n",
    )
    run = ingest_mapping(store, path)
    assert run.entities == 5
    acme = store.entity(Reader.system(), "C1")
    assert acme is not None and acme.properties() == {"name": ["ACME"]}
    assert {s.source_row for s in acme.statements} == {1}
    edges = store.con.execute(
        "SELECT source, target, kind, schema FROM edges ORDER BY source"
    ).fetchall()
    assert edges == [("P1", "C1", "edge", "Directorship"), ("P2", "C1", "edge", "Directorship")]
