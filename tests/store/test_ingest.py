"""Ingestion into a real DuckDB store: accounting, bad input, idempotency, atomicity."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from recoupe.errors import ImportFailed, MappingError, SourceError
from recoupe.mapping.compile import QueryPlan
from recoupe.mapping.spec import load_mapping
from recoupe.security.reader import Reader
from recoupe.services.ingest import ingest_mapping
from recoupe.store import DuckDBStore, open_store
from tests.conftest import write

PEOPLE = """\
id,name,birth,phone,country,aliases
1,Jean  Dupont,1980-01-02,06 12 34 56 78,fr,JD;Jeannot
2,,1981-02-03,,fr,
3,Marie Curie,1867-13-07,+33 6 11 22 33 44,France,
4,Ahmed Benali,not a date,0033612345679,DZ,
5,"Olga, Ivanova",1990-05-06,,RU,Ольга Иванова
6,Too,Many,Columns,here,x,y
,Nobody,1990-01-01,,,
"""
MAPPING = """\
people:
  title: Fichier des personnes
  owner: test
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
            birthDate: {column: birth}
            phone: {column: phone}
            country: {column: country}
            alias: {column: aliases, split: ";"}
"""


def people(tmp_path: Path) -> Path:
    write(tmp_path / "people.csv", PEOPLE)
    return write(tmp_path / "people.yml", MAPPING)


def test_bad_rows_are_rejected_with_reasons_and_nothing_is_lost(
    store: DuckDBStore, reader: Reader, tmp_path: Path
) -> None:
    run = ingest_mapping(store, people(tmp_path))
    assert run.status == "succeeded"
    assert run.rows_read == 7
    assert run.rows_read == run.rows_loaded + run.rows_rejected + run.rows_filtered
    assert (run.rows_loaded, run.rows_rejected) == (4, 3)
    rejected = {r.row: r for r in store.rejected(reader, run.run_id)}
    assert set(rejected) == {2, 6, 7}
    assert "person.name: required value is empty" in rejected[2].reason
    assert '"birth":"1981-02-03"' in rejected[2].record
    assert "TOO MANY COLUMNS" in rejected[6].reason
    assert "6,Too,Many,Columns" in rejected[6].record
    assert "every key is empty" in rejected[7].reason and "'id'" in rejected[7].reason
    dropped = {(d.row, d.prop): d for d in store.dropped(reader, run.run_id)}
    assert set(dropped) == {(3, "birthDate"), (4, "birthDate")}
    assert dropped[(3, "birthDate")].value == "1867-13-07"
    assert "not a valid date" in dropped[(3, "birthDate")].reason


def test_values_are_cleaned_with_provenance(
    store: DuckDBStore, reader: Reader, tmp_path: Path
) -> None:
    from recoupe.ontology import entity_id

    ingest_mapping(store, people(tmp_path))
    jean = store.entity(reader, entity_id("person", ["1"]) or "")
    assert jean is not None and jean.schema == "Person"
    props = jean.properties()
    assert props["name"] == ["Jean Dupont"]
    assert props["phone"] == ["+33612345678"]
    assert props["alias"] == ["JD", "Jeannot"]
    phone = next(s for s in jean.statements if s.prop == "phone")
    assert phone.original_value == "06 12 34 56 78"
    assert phone.source_file.endswith("people.csv") and phone.source_row == 1
    assert phone.dataset == "people"
    olga = store.entity(reader, entity_id("person", ["5"]) or "")
    assert olga is not None
    assert olga.properties()["alias"] == ["Ольга Иванова"]
    assert olga.properties()["country"] == ["ru"]


def test_rerun_is_idempotent_and_moves_last_seen(
    store: DuckDBStore, reader: Reader, tmp_path: Path
) -> None:
    mapping = people(tmp_path)
    first = ingest_mapping(store, mapping)
    store.con.execute("UPDATE sources SET loaded_at = TIMESTAMP '2000-01-01'")
    before = store.counts(reader)
    second = ingest_mapping(store, mapping)
    assert store.counts(reader) == before
    assert second.statements == first.statements and second.statements_new == 0
    seen = store.con.execute(
        "SELECT min(last_seen), max(first_seen), count(DISTINCT run_id), "
        "count(DISTINCT last_run_id) FROM statement_provenance"
    ).fetchone()
    assert seen is not None
    assert seen[0].year > 2000  # last_seen moved to the second run
    assert seen[1].year == 2000  # first_seen stays
    assert seen[2] == 1  # statements keep the run that first wrote them
    assert seen[3] == 1 and second.run_id != first.run_id


def test_rerun_with_changed_source_adds_only_new_statements(
    store: DuckDBStore, reader: Reader, tmp_path: Path
) -> None:
    mapping = people(tmp_path)
    ingest_mapping(store, mapping)
    before = store.counts(reader)["statements"]
    write(tmp_path / "people.csv", PEOPLE.replace("Jean  Dupont", "Jean Dupond"))
    run = ingest_mapping(store, mapping)
    assert run.statements_new == 1
    assert store.counts(reader)["statements"] == before + 1


def test_failure_midway_leaves_the_store_as_it_was(
    store: DuckDBStore, reader: Reader, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recoupe.store import duckdb_import

    ingest_mapping(store, people(tmp_path))
    before = store.counts(reader)
    rows = "\n".join(f"{i},Person {i}" for i in range(1, 2001))
    write(tmp_path / "many.csv", "id,name\n" + rows + "\n")
    mapping = write(
        tmp_path / "many.yml",
        "many:\n  queries:\n    - csv_url: many.csv\n      entities:\n        p:\n"
        "          schema: Person\n          keys: [id]\n"
        "          properties: {name: {column: name}}\n",
    )
    calls = {"n": 0}
    original = duckdb_import.ImportRun._write_values

    def failing(self: duckdb_import.ImportRun, plan: QueryPlan, file: str, source_id: int) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk unplugged")
        original(self, plan, file, source_id)

    monkeypatch.setattr(duckdb_import, "CHUNK_ROWS", 500)
    monkeypatch.setattr(duckdb_import.ImportRun, "_write_values", failing)
    with pytest.raises(ImportFailed, match="nothing was written: OSError: disk unplugged"):
        store.ingest_mapping(load_mapping(mapping, store.model))
    assert calls["n"] == 3
    assert store.counts(reader) == before
    failed = store.runs(reader, "many")[-1]
    assert failed.status == "failed" and "disk unplugged" in (failed.error or "")


def test_killed_process_leaves_the_store_as_it_was(tmp_path: Path, reader: Reader) -> None:
    workspace = tmp_path / "ws"
    with open_store(workspace, create=True) as store:
        ingest_mapping(store, people(tmp_path))
        before = store.counts(reader)
    rows = "\n".join(f"{i},Person {i}" for i in range(1, 3001))
    write(tmp_path / "many.csv", "id,name\n" + rows + "\n")
    write(
        tmp_path / "many.yml",
        "many:\n  queries:\n    - csv_url: many.csv\n      entities:\n        p:\n"
        "          schema: Person\n          keys: [id]\n"
        "          properties: {name: {column: name}}\n",
    )
    script = textwrap.dedent(
        f"""
        import os, signal
        from pathlib import Path
        from recoupe.store import duckdb_import, open_store
        from recoupe.services.ingest import ingest_mapping
        duckdb_import.CHUNK_ROWS = 1000
        original = duckdb_import.ImportRun._write_values
        count = 0
        def write_then_die(self, plan, file, source_id):
            global count
            original(self, plan, file, source_id)
            count += 1
            if count == 2:
                os.kill(os.getpid(), signal.SIGKILL)
        duckdb_import.ImportRun._write_values = write_then_die
        store = open_store(Path({str(workspace)!r}))
        ingest_mapping(store, Path({str(tmp_path / "many.yml")!r}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, check=False)
    assert proc.returncode == -9, proc.stderr.decode()
    with open_store(workspace) as store:
        assert store.counts(reader) == before
        last = store.runs(reader, "many")[-1]
        assert last.status == "interrupted"
        leftovers = store.con.execute(
            "SELECT count(*) FROM rejected_rows WHERE run_id = ?", [last.run_id]
        ).fetchone()
        assert leftovers == (0,)


def test_filters_are_accounted_for(store: DuckDBStore, tmp_path: Path) -> None:
    write(tmp_path / "f.csv", "id,name,kind\n1,A,keep\n2,B,drop\n3,C,keep\n")
    mapping = write(
        tmp_path / "f.yml",
        "f:\n  queries:\n    - csv_url: f.csv\n      filters: {kind: keep}\n      entities:\n"
        "        p:\n          schema: Person\n          keys: [id]\n"
        "          properties: {name: {column: name}}\n",
    )
    run = ingest_mapping(store, mapping)
    assert (run.rows_read, run.rows_loaded, run.rows_filtered, run.rows_rejected) == (3, 2, 1, 0)


def test_missing_source_names_the_path(store: DuckDBStore, tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "m.yml",
        "m:\n  queries:\n    - csv_url: nowhere.csv\n      entities:\n        p:\n"
        "          schema: Person\n          keys: [id]\n",
    )
    with pytest.raises(ImportFailed, match=r"nowhere\.csv: source file not found"):
        ingest_mapping(store, mapping)


def test_missing_column_names_the_mapping_key(store: DuckDBStore, tmp_path: Path) -> None:
    write(tmp_path / "p.csv", "id,name\n1,A\n")
    mapping = write(
        tmp_path / "m.yml",
        "m:\n  queries:\n    - csv_url: p.csv\n      entities:\n        p:\n"
        "          schema: Person\n          keys: [id]\n"
        "          properties: {name: {column: nom}}\n",
    )
    with pytest.raises(
        ImportFailed, match=r"m\.yml, key m\.queries\[0\]: column\(s\) 'nom' not in"
    ):
        ingest_mapping(store, mapping)


def test_wrong_encoding_is_reported_not_garbled(store: DuckDBStore, tmp_path: Path) -> None:
    write(tmp_path / "l.csv", "id,name\n1,Hélène Müller\n", encoding="latin-1")
    mapping = write(
        tmp_path / "m.yml",
        "m:\n  queries:\n    - csv_url: l.csv\n      entities:\n        p:\n"
        "          schema: Person\n          keys: [id]\n"
        "          properties: {name: {column: name}}\n",
    )
    with pytest.raises(ImportFailed, match=r"l\.csv: not valid UTF-8 at byte 11 \(line 2\)"):
        ingest_mapping(store, mapping)
    assert store.counts(Reader.system())["statements"] == 0


def test_declared_legacy_encoding_is_decoded(
    store: DuckDBStore, reader: Reader, tmp_path: Path
) -> None:
    from recoupe.ontology import entity_id

    write(tmp_path / "c.csv", "id;name\n1;Œuvre d’Hélène €\n", encoding="cp1252")
    mapping = write(
        tmp_path / "m.yml",
        "m:\n  queries:\n    - source: {path: c.csv, encoding: cp1252, delimiter: ';'}\n"
        "      entities:\n        p:\n          schema: Company\n          keys: [id]\n"
        "          properties: {name: {column: name}}\n",
    )
    ingest_mapping(store, mapping)
    company = store.entity(reader, entity_id(None, ["1"]) or "")
    assert company is not None
    assert company.properties()["name"] == ["Œuvre d’Hélène €"]


def test_utf8_file_declared_legacy_is_refused(store: DuckDBStore, tmp_path: Path) -> None:
    write(tmp_path / "u.csv", "id,name\n1,Hélène\n")
    mapping = write(
        tmp_path / "m.yml",
        "m:\n  queries:\n    - source: {path: u.csv, encoding: cp1252}\n"
        "      entities:\n        p:\n          schema: Person\n          keys: [id]\n"
        "          properties: {name: {column: name}}\n",
    )
    with pytest.raises(
        ImportFailed, match=r"u\.csv: the mapping says cp1252 but the file is valid UTF-8"
    ):
        ingest_mapping(store, mapping)


def test_broken_mapping_names_file_and_key(store: DuckDBStore, tmp_path: Path) -> None:
    mapping = write(
        tmp_path / "bad.yml",
        "m:\n  queries:\n    - csv_url: p.csv\n      entities:\n        p:\n"
        "          schema: Person\n          keys: [id]\n"
        "          properties: {nickname: {column: x}}\n",
    )
    with pytest.raises(MappingError) as info:
        ingest_mapping(store, mapping)
    assert str(info.value).startswith(str(mapping))
    assert "key m.queries[0].entities.p.properties.nickname" in str(info.value)
    assert "schema Person has no property 'nickname'" in str(info.value)


def test_unreadable_source_names_the_path(store: DuckDBStore, tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = write(tmp_path / "p.csv", "id\n1\n")
    path.chmod(0)
    mapping = write(
        tmp_path / "m.yml",
        "m:\n  queries:\n    - csv_url: p.csv\n      entities:\n        p:\n"
        "          schema: Person\n          keys: [id]\n",
    )
    with pytest.raises(ImportFailed, match="not readable"):
        ingest_mapping(store, mapping)


def test_source_errors_are_source_errors() -> None:
    err = SourceError("broken", path="/x/y.csv")
    assert str(err) == "/x/y.csv: broken"


def test_progress_is_reported_for_every_stage(store: DuckDBStore, tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    ingest_mapping(store, people(tmp_path), progress=lambda s, d, t: seen.append((s, d, t)))
    stages = [s for s, _, _ in seen]
    assert ("reading people.csv", 100, 100) in seen
    assert ("mapping people.csv", 7, 7) in seen
    assert stages.index("reading people.csv") < stages.index("mapping people.csv")
    assert stages[-1] == "deriving edges"


def test_compaction_keeps_every_statement_and_sorts_them(
    store: DuckDBStore, reader: Reader, tmp_path: Path
) -> None:
    ingest_mapping(store, people(tmp_path))
    before = sorted(store.con.execute("SELECT * FROM statements").fetchall(), key=str)
    entity = store.entity(reader, store.entity_ids(reader, limit=1)[0])
    assert store.needs_compaction()
    assert store.compact() == len(before)
    assert not store.needs_compaction()
    after = store.con.execute("SELECT * FROM statements").fetchall()
    assert sorted(after, key=str) == before
    assert [r[0] for r in after] == sorted(r[0] for r in after)
    assert entity is not None
    assert store.entity(reader, entity.id) == entity
