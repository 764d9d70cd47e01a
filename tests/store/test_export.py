"""Exports: FtM JSON round trip, statements CSV, GEXF; FtM import checks its input."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from recoupe.errors import ImportFailed
from recoupe.security.reader import Reader
from recoupe.services.ingest import import_ftm, ingest_mapping
from recoupe.store import DuckDBStore, open_store
from tests.conftest import write

CALLS = """\
call_id,caller,callee,start,duration,cell
c1,33612345678,33698765432,2024-03-01T10:00:00,60,CELL-1
c2,33698765432,33612345678,2024-03-01T11:30:00,12,CELL-2
c3,33612345678,33611111111,2024-03-02T09:15:00,300,CELL-1
"""
MAPPING = """\
telecom:
  queries:
    - csv_url: calls.csv
      countries: [fr]
      entities:
        call:
          schema: PhoneCall
          keys: [call_id]
          key_literal: call
          properties:
            callerNumber: caller
            receiverNumber: callee
            date: start
            duration: duration
            callerPhone: {entity: a}
            receiverPhone: {entity: b}
            callerCell: {entity: cell}
        a:
          schema: Phone
          keys: [caller]
          key_literal: phone
          properties: {number: caller}
        b:
          schema: Phone
          keys: [callee]
          key_literal: phone
          properties: {number: callee}
        cell:
          schema: CellTower
          keys: [cell]
          key_literal: cell
          properties: {cellId: cell}
"""


@pytest.fixture
def telecom(store: DuckDBStore, tmp_path: Path) -> DuckDBStore:
    write(tmp_path / "calls.csv", CALLS)
    ingest_mapping(store, write(tmp_path / "calls.yml", MAPPING))
    return store


def test_shared_entities_are_deduplicated_and_edges_derived(telecom: DuckDBStore) -> None:
    reader = Reader.system()
    assert telecom.counts(reader) == {"statements": 34, "entities": 8, "edges": 6}
    from recoupe.ontology import entity_id

    line = telecom.entity(reader, entity_id("phone", ["33612345678"]) or "")
    assert line is not None and line.schema == "Phone"
    assert line.properties() == {"number": ["+33612345678"]}
    numbers = [s for s in line.statements if s.prop == "number"]
    assert len(numbers) == 1 and numbers[0].source_row == 1
    edges = telecom.con.execute(
        "SELECT kind, schema, prop, start_date, count(*) FROM edges GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert edges == [
        ("edge", "PhoneCall", None, "2024-03-01T10:00:00", 1),
        ("edge", "PhoneCall", None, "2024-03-01T11:30:00", 1),
        ("edge", "PhoneCall", None, "2024-03-02T09:15:00", 1),
        ("property", "PhoneCall", "callerCell", "2024-03-01T10:00:00", 1),
        ("property", "PhoneCall", "callerCell", "2024-03-01T11:30:00", 1),
        ("property", "PhoneCall", "callerCell", "2024-03-02T09:15:00", 1),
    ]


def test_ftm_export_then_import_gives_the_same_entities(
    telecom: DuckDBStore, tmp_path: Path
) -> None:
    reader = Reader.system()
    out = tmp_path / "export.ftm.json"
    assert telecom.export(reader, "ftm", out) == 8
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    with open_store(tmp_path / "other", create=True) as other:
        run = import_ftm(other, out, "copy")
        assert (run.rows_read, run.rows_loaded, run.rows_rejected) == (8, 8, 0)
        again = tmp_path / "again.ftm.json"
        other.export(reader, "ftm", again)
        reimported = [json.loads(line) for line in again.read_text(encoding="utf-8").splitlines()]
        assert other.counts(reader)["edges"] == telecom.counts(reader)["edges"]

    def strip(items: list[dict[str, object]]) -> list[tuple[object, object, object]]:
        return [(e["id"], e["schema"], e["properties"]) for e in items]

    assert strip(reimported) == strip(exported)
    call = next(e for e in exported if e["schema"] == "PhoneCall")
    assert set(call["properties"]) >= {"callerNumber", "date", "duration", "callerPhone"}


def test_import_ftm_rejects_bad_lines(store: DuckDBStore, tmp_path: Path) -> None:
    lines = [
        '{"id": "a", "schema": "Person", "properties": {"name": ["Ana"], "shoeSize": ["42"]}}',
        "",
        "not json",
        '{"id": "b", "schema": "Unicorn", "properties": {}}',
        '{"schema": "Person", "properties": {"name": ["No id"]}}',
        '{"id": "c", "schema": "Company", "properties": {"name": "not a list"}}',
    ]
    path = write(tmp_path / "e.ftm.json", "\n".join(lines) + "\n")
    run = import_ftm(store, path, "mixed")
    assert (run.rows_read, run.rows_loaded, run.rows_rejected) == (5, 2, 3)
    reader = Reader.system()
    reasons = {r.row: r.reason for r in store.rejected(reader, run.run_id)}
    assert reasons == {
        3: "not valid JSON",
        4: 'unknown or abstract schema "Unicorn"',
        5: 'no "id"',
    }
    dropped = {(d.row, d.prop): d.reason for d in store.dropped(reader, run.run_id)}
    assert dropped == {
        (1, "shoeSize"): 'schema Person has no property "shoeSize"',
        (6, "name"): "values must be a list of strings",
    }


def test_import_ftm_missing_file(store: DuckDBStore, tmp_path: Path) -> None:
    with pytest.raises(ImportFailed, match=r"nope\.json: FtM entity file not found"):
        import_ftm(store, tmp_path / "nope.json", "x")


def test_statements_csv_has_provenance(telecom: DuckDBStore, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    n = telecom.export(Reader.system(), "csv", out)
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == n == 34
    number = next(r for r in rows if r["prop"] == "callerNumber" and r["source_row"] == "1")
    assert number["value"] == "+33612345678"
    assert number["original_value"] == "33612345678"
    assert number["source_file"].endswith("calls.csv")


def test_gexf_is_valid_xml(telecom: DuckDBStore, tmp_path: Path) -> None:
    out = tmp_path / "g.gexf"
    telecom.export(Reader.system(), "gexf", out)
    root = ET.parse(out).getroot()
    ns = {"g": "http://gexf.net/1.3"}
    nodes = root.findall(".//g:node", ns)
    edges = root.findall(".//g:edge", ns)
    assert len(edges) == 6
    labels = {n.get("label") for n in nodes}
    assert "+33612345678" in labels and "CELL-1" in labels


def test_mapping_can_read_ftm_entity_files(store: DuckDBStore, tmp_path: Path) -> None:
    lines = [
        '{"id": "a", "schema": "Person", "properties": {"name": ["Ana"]}}',
        '{"id": "b", "schema": "Company", "properties": {"name": ["ACME"]}}',
    ]
    write(tmp_path / "e.ftm.json", "\n".join(lines) + "\n")
    mapping = write(
        tmp_path / "m.yml", "aleph:\n  queries:\n    - source: {path: e.ftm.json, format: ftm}\n"
    )
    run = ingest_mapping(store, mapping)
    assert (run.rows_read, run.rows_loaded, run.entities) == (2, 2, 2)
    ana = store.entity(Reader.system(), "a")
    assert ana is not None and ana.properties() == {"name": ["Ana"]}


def test_entities_stream_with_their_common_schema(store: DuckDBStore, tmp_path: Path) -> None:
    lines = [
        '{"id": "x", "schema": "LegalEntity", "properties": {"name": ["X"]}}',
        '{"id": "x", "schema": "Person", "properties": {"birthDate": ["1970"]}}',
        '{"id": "y", "schema": "Company", "properties": {"name": ["Y"]}}',
    ]
    import_ftm(store, write(tmp_path / "e.ftm.json", "\n".join(lines) + "\n"), "mixed")
    entities = {e["id"]: e for e in store.iter_entities(Reader.system())}
    assert entities["x"]["schema"] == "Person"
    assert entities["x"]["properties"] == {"birthDate": ["1970"], "name": ["X"]}
    assert entities["y"]["schema"] == "Company"
    out = tmp_path / "out.json"
    assert store.export(Reader.system(), "ftm", out) == 2
    assert '"schema":"Person"' in out.read_text(encoding="utf-8")
