"""Every source format lands the same entities, with row numbers."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recoupe.errors import ImportFailed
from recoupe.ontology import entity_id
from recoupe.security.reader import Reader
from recoupe.services.ingest import ingest_mapping
from recoupe.store import DuckDBStore
from tests.conftest import write

ROWS = [
    {"id": "1", "name": "Jean Dupont", "email": "JEAN@EXAMPLE.FR"},
    {"id": "2", "name": "Leïla Haddad", "email": "leila@example.org"},
    {"id": "3", "name": "", "email": "x@example.org"},
]
ENTITIES = """      entities:
        p:
          schema: Person
          keys: [id]
          key_literal: p
          properties:
            name: {column: name, required: true}
            email: {column: email}
"""


def mapping(tmp_path: Path, source: str) -> Path:
    return write(tmp_path / "m.yml", f"m:\n  queries:\n    - {source}\n{ENTITIES}")


def check(store: DuckDBStore, path: Path) -> None:
    run = ingest_mapping(store, path)
    assert (run.rows_read, run.rows_loaded, run.rows_rejected) == (3, 2, 1)
    (rejected,) = store.rejected(Reader.system(), run.run_id)
    assert rejected.row == 3
    leila = store.entity(Reader.system(), entity_id("p", ["2"]) or "")
    assert leila is not None
    assert leila.properties() == {"email": ["leila@example.org"], "name": ["Leïla Haddad"]}
    assert {s.source_row for s in leila.statements} == {2}
    jean = store.entity(Reader.system(), entity_id("p", ["1"]) or "")
    assert jean is not None and jean.properties()["email"] == ["JEAN@example.fr"]


def test_tsv_without_header(store: DuckDBStore, tmp_path: Path) -> None:
    lines = ["\t".join(r.values()) for r in ROWS]
    write(tmp_path / "p.tsv", "\n".join(lines) + "\n")
    src = "source: {path: p.tsv, header: false}"
    text = ENTITIES.replace("[id]", "[column1]").replace("column: name", "column: column2")
    text = text.replace("column: email", "column: column3")
    path = write(tmp_path / "m.yml", f"m:\n  queries:\n    - {src}\n{text}")
    run = ingest_mapping(store, path)
    assert (run.rows_read, run.rows_loaded, run.rows_rejected) == (3, 2, 1)


def test_jsonl(store: DuckDBStore, tmp_path: Path) -> None:
    write(tmp_path / "p.jsonl", "\n".join(json.dumps(r) for r in ROWS) + "\n")
    check(store, mapping(tmp_path, "source: p.jsonl"))


def test_json_array(store: DuckDBStore, tmp_path: Path) -> None:
    write(tmp_path / "p.json", json.dumps(ROWS))
    check(store, mapping(tmp_path, "source: p.json"))


def test_parquet(store: DuckDBStore, tmp_path: Path) -> None:
    pq.write_table(pa.Table.from_pylist(ROWS), tmp_path / "p.parquet")
    check(store, mapping(tmp_path, "source: p.parquet"))


def test_excel(store: DuckDBStore, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Personnes"
    sheet.append(["id", "name", "email"])
    for row in ROWS:
        sheet.append([int(row["id"]), row["name"] or None, row["email"]])
    book.save(tmp_path / "p.xlsx")
    check(store, mapping(tmp_path, "source: {path: p.xlsx, sheet: Personnes}"))


def test_excel_missing_sheet(store: DuckDBStore, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.save(tmp_path / "p.xlsx")
    with pytest.raises(ImportFailed, match=r"p\.xlsx: no sheet 'Nope'"):
        ingest_mapping(store, mapping(tmp_path, "source: {path: p.xlsx, sheet: Nope}"))


def test_sql_table(store: DuckDBStore, tmp_path: Path) -> None:
    db = tmp_path / "p.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE people (id INTEGER, name TEXT, email TEXT)")
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?)",
            [(int(r["id"]), r["name"] or None, r["email"]) for r in ROWS],
        )
    conn.close()
    check(store, mapping(tmp_path, f"database: sqlite:///{db}\n      table: people"))


def test_sql_error_names_the_database(store: DuckDBStore, tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite"
    sqlite3.connect(db).close()
    with pytest.raises(ImportFailed, match=r"sqlite:///.*empty\.sqlite:missing: query failed"):
        ingest_mapping(store, mapping(tmp_path, f"database: sqlite:///{db}\n      table: missing"))


def test_malformed_jsonl_names_the_file(store: DuckDBStore, tmp_path: Path) -> None:
    write(tmp_path / "p.jsonl", '{"id": "1"}\n{broken\n')
    with pytest.raises(ImportFailed, match=r"p\.jsonl: cannot read"):
        ingest_mapping(store, mapping(tmp_path, "source: p.jsonl"))
