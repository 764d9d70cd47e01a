"""The embedded statement store on one DuckDB file (``<workspace>/store.duckdb``).

Tables (see docs/architecture.md):

- ``statements``: one row per (dataset, entity, property, value) with its provenance;
- ``edges``: derived links, one per edge entity (source → target) and per entity-typed
  property (entity → referenced entity), with dates;
- ``datasets``, ``runs``, ``rejected_rows``, ``dropped_values``: metadata and accounting.

Reads filter statements to the datasets the reader may see, inside the SQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from followthemoney.model import Model

from recoupe.config import make_workspace
from recoupe.errors import ConfigError, NotFound, StoreError, UnsupportedOperation
from recoupe.mapping.spec import DatasetMeta, MappingSpec
from recoupe.ontology import model as default_model
from recoupe.security.reader import Reader
from recoupe.sql import quote_str
from recoupe.store.base import (
    Dataset,
    DroppedValue,
    Entity,
    Progress,
    RejectedRow,
    Run,
    Statement,
)
from recoupe.store.resolution import DDL as RESOLVE_DDL

SCHEMA_VERSION = 1
DDL = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS datasets (
    name VARCHAR PRIMARY KEY, title VARCHAR, description VARCHAR, owner VARCHAR,
    marking VARCHAR, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, dataset VARCHAR NOT NULL, kind VARCHAR NOT NULL,
    source VARCHAR NOT NULL, status VARCHAR NOT NULL, started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP, rows_read BIGINT DEFAULT 0, rows_loaded BIGINT DEFAULT 0,
    rows_rejected BIGINT DEFAULT 0, rows_filtered BIGINT DEFAULT 0,
    values_dropped BIGINT DEFAULT 0, entities BIGINT DEFAULT 0, statements BIGINT DEFAULT 0,
    statements_new BIGINT DEFAULT 0, seconds DOUBLE, error VARCHAR
);
CREATE SEQUENCE IF NOT EXISTS source_ids START 1;
CREATE TABLE IF NOT EXISTS sources (
    source_id INTEGER PRIMARY KEY, run_id VARCHAR NOT NULL, dataset VARCHAR NOT NULL,
    file VARCHAR NOT NULL, loaded_at TIMESTAMP NOT NULL
);
-- One row per (dataset, entity, schema, property, value). Constraints are enforced by the
-- writer; dataset, run, file and times come from the source the value was first (and
-- last) seen in: see the statement_provenance view.
CREATE TABLE IF NOT EXISTS statements (
    entity_id VARCHAR, schema VARCHAR, prop VARCHAR, value VARCHAR, original_value VARCHAR,
    source_id INTEGER, source_row BIGINT, last_source_id INTEGER
);
CREATE TABLE IF NOT EXISTS edges (
    source VARCHAR, target VARCHAR, entity_id VARCHAR, kind VARCHAR, schema VARCHAR,
    prop VARCHAR, start_date VARCHAR, end_date VARCHAR, source_id INTEGER
);
CREATE TABLE IF NOT EXISTS rejected_rows (
    run_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, row BIGINT NOT NULL,
    record VARCHAR NOT NULL, reason VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS dropped_values (
    run_id VARCHAR NOT NULL, source_file VARCHAR NOT NULL, row BIGINT NOT NULL,
    entity VARCHAR NOT NULL, prop VARCHAR NOT NULL, value VARCHAR NOT NULL,
    reason VARCHAR NOT NULL
);
"""
_PROVENANCE_VIEW = """
CREATE OR REPLACE VIEW statement_provenance AS
SELECT s.entity_id, s.schema, s.prop, s.value, coalesce(s.original_value, s.value)
       AS original_value, f.dataset, f.run_id, f.file AS source_file, s.source_row,
       f.loaded_at AS first_seen, coalesce(l.loaded_at, f.loaded_at) AS last_seen,
       coalesce(l.run_id, f.run_id) AS last_run_id, s.source_id
FROM statements s JOIN sources f ON f.source_id = s.source_id
LEFT JOIN sources l ON l.source_id = s.last_source_id;
"""
DDL += _PROVENANCE_VIEW + RESOLVE_DDL
EXPORT_FORMATS = ("ftm", "csv", "gexf")


def open_store(
    workspace: Path,
    *,
    create: bool = False,
    read_only: bool = False,
    memory_limit: str = "3GB",
    threads: int | None = None,
    model: Model | None = None,
) -> DuckDBStore:
    """Open the store of a workspace folder; ``create`` makes the folder and tables."""
    path = workspace / "store.duckdb"
    if not path.exists():
        if not create:
            raise ConfigError(
                f"{workspace}: not a Recoupe workspace (no store.duckdb); run `recoupe init`"
            )
        make_workspace(workspace)
    return DuckDBStore(
        workspace, read_only=read_only, memory_limit=memory_limit, threads=threads, model=model
    )


class DuckDBStore:
    """The statement store on an embedded DuckDB database file."""

    def __init__(
        self,
        workspace: Path,
        *,
        read_only: bool = False,
        memory_limit: str = "3GB",
        threads: int | None = None,
        model: Model | None = None,
    ) -> None:
        self.path = workspace
        self.model = model or default_model()
        self.tmp = workspace / "tmp"
        self.tmp.mkdir(parents=True, exist_ok=True)
        # (name, marking) of every dataset; shared by sessions, cleared on every change.
        self._datasets: dict[str, str | None] = {}
        config: dict[str, Any] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "memory_limit": memory_limit,
            "temp_directory": str(self.tmp),
        }
        if threads is not None:
            config["threads"] = threads
        try:
            self.con = duckdb.connect(
                str(workspace / "store.duckdb"), read_only=read_only, config=config
            )
        except duckdb.IOException as exc:
            raise StoreError(
                f"{workspace}: cannot open the store ({str(exc).splitlines()[0]}); "
                "is another Recoupe process writing to it?"
            ) from exc
        # Track query progress for our own reporting, but never print the engine's bar.
        self.con.execute("SET enable_progress_bar = true")
        self.con.execute("SET enable_progress_bar_print = false")
        if not read_only:
            self.con.execute(DDL)
            self.con.execute(
                "INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)]
            )
            self._mark_interrupted()

    def close(self) -> None:
        self.con.close()

    def session(self) -> DuckDBStore:
        """The same store on a cursor of its own, for one thread (or one request).

        Cursors share the database: each sees committed data only, so a reader never sees
        an import run that has not finished.
        """
        clone = object.__new__(DuckDBStore)
        clone.__dict__.update(self.__dict__)
        clone.con = self.con.cursor()
        return clone

    # -- maintenance ----------------------------------------------------------------------
    COMPACT_SHARE = 0.1
    """Compact when more than this share of the statements were added since the last time."""

    def unsorted_statements(self) -> tuple[int, int]:
        """(statements added since the last compaction, all statements)."""
        row = self.con.execute(
            "SELECT (SELECT count(*) FROM statements), "
            "(SELECT coalesce(max(value::BIGINT), 0) FROM meta WHERE key = 'sorted_statements')"
        ).fetchone()
        assert row is not None
        total, sorted_rows = int(row[0]), int(row[1])
        return max(total - sorted_rows, 0), total

    def needs_compaction(self) -> bool:
        unsorted, total = self.unsorted_statements()
        return unsorted > 0 and unsorted >= self.COMPACT_SHARE * total

    def compact(self) -> int:
        """Rewrite the statements in entity order, so looking up one entity reads little.

        DuckDB skips blocks by their min/max values: once statements are in ``entity_id``
        order, an entity's statements sit in one or two blocks instead of being spread over
        all of them. One transaction: readers see the old table until it commits. Returns
        the number of statements.
        """
        self.con.execute("BEGIN TRANSACTION")
        try:
            self.con.execute(
                "CREATE TABLE statements_sorted AS SELECT * FROM statements "
                "ORDER BY entity_id, prop, value"
            )
            self.con.execute("DROP VIEW statement_provenance")
            self.con.execute("DROP TABLE statements")
            self.con.execute("ALTER TABLE statements_sorted RENAME TO statements")
            self.con.execute(_PROVENANCE_VIEW)
            row = self.con.execute("SELECT count(*) FROM statements").fetchone()
            total = int(row[0]) if row else 0
            self.con.execute(
                "INSERT OR REPLACE INTO meta VALUES ('sorted_statements', ?)", [str(total)]
            )
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        return total

    def generation(self) -> int:
        """A number that grows with every committed import run (0 for an empty store).

        Derived data (search index, graph, places) records the generation it was built
        from, to know when it is stale.
        """
        row = self.con.execute("SELECT coalesce(max(source_id), 0) FROM sources").fetchone()
        return int(row[0]) if row else 0

    def __enter__(self) -> DuckDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _mark_interrupted(self) -> None:
        """Runs left 'running' by a killed process were rolled back: say so."""
        self.con.execute(
            "UPDATE runs SET status = 'interrupted', error = 'the process stopped before the "
            "run committed; nothing from it was kept' WHERE status = 'running'"
        )

    # -- access ---------------------------------------------------------------------------
    def markings(self) -> dict[str, str | None]:
        """Every dataset's marking as stored (None: unmarked, read as the lowest level)."""
        if not self._datasets:
            rows = self.con.execute("SELECT name, marking FROM datasets ORDER BY name").fetchall()
            self._datasets.update(rows)
        return dict(self._datasets)

    def visible_datasets(self, reader: Reader) -> list[str]:
        return [n for n, marking in self.markings().items() if reader.can_see(n, marking).allowed]

    def scope_sql(self, reader: Reader, dataset: str | None = None) -> str:
        """A SQL predicate on a ``source_id`` column limited to what ``reader`` may see.

        Every query over ``statements``, ``edges`` or tables derived from them puts it in
        its WHERE clause, so nothing the reader may not see leaves the store.
        """
        return self._scope(reader, dataset)

    def _scope(self, reader: Reader, dataset: str | None = None) -> str:
        """A SQL predicate on ``source_id`` limited to what ``reader`` may see."""
        names = self._names(reader, dataset)
        if not names:
            return "false"
        rows = self.con.execute(
            "SELECT list(source_id ORDER BY source_id) FROM sources "
            "WHERE list_contains(?, dataset)",
            [names],
        ).fetchone()
        ids = list(rows[0] or []) if rows else []
        if not ids:
            return "false"
        # An IN list is applied while scanning; list_contains would be evaluated row by row.
        return "source_id IN (" + ", ".join(str(int(i)) for i in ids) + ")"

    def _names(self, reader: Reader, dataset: str | None = None) -> list[str]:
        names = self.visible_datasets(reader)
        if dataset is not None:
            if dataset not in names:
                raise NotFound(f"no dataset {dataset!r}")
            names = [dataset]
        return names

    def _dataset_scope(self, reader: Reader, dataset: str | None = None) -> str:
        names = self._names(reader, dataset)
        if not names:
            return "false"
        return "dataset IN (" + ", ".join(quote_str(n) for n in names) + ")"

    # -- datasets and runs ----------------------------------------------------------------
    def upsert_dataset(self, meta: DatasetMeta) -> None:
        self._datasets.clear()
        now = datetime.now()
        self.con.execute(
            "INSERT INTO datasets VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "title = coalesce(excluded.title, title), "
            "description = coalesce(excluded.description, description), "
            "owner = coalesce(excluded.owner, owner), "
            "marking = coalesce(excluded.marking, marking), updated_at = excluded.updated_at",
            [meta.name, meta.title, meta.description, meta.owner, meta.marking, now, now],
        )

    def set_marking(self, name: str, marking: str) -> None:
        """Mark a dataset; every statement of it inherits the marking at once."""
        found = self.con.execute("SELECT 1 FROM datasets WHERE name = ?", [name]).fetchone()
        if found is None:
            raise NotFound(f"no dataset {name!r}")
        self.con.execute(
            "UPDATE datasets SET marking = ?, updated_at = ? WHERE name = ?",
            [marking, datetime.now(), name],
        )
        self._datasets.clear()

    def datasets(self, reader: Reader) -> list[Dataset]:
        scope = self._scope(reader)
        names = self._dataset_scope(reader).replace("dataset IN", "d.name IN")
        rows = self.con.execute(
            "SELECT d.*, coalesce(s.n, 0), coalesce(s.e, 0) FROM datasets d LEFT JOIN ("
            "SELECT f.dataset, count(*) AS n, count(DISTINCT entity_id) AS e FROM statements "
            f"JOIN sources f USING (source_id) WHERE {scope} GROUP BY f.dataset) s "
            f"ON s.dataset = d.name WHERE {names} ORDER BY d.name"
        ).fetchall()
        return [Dataset(*row) for row in rows]

    def dataset(self, reader: Reader, name: str) -> Dataset:
        for ds in self.datasets(reader):
            if ds.name == name:
                return ds
        raise NotFound(f"no dataset {name!r}")

    def runs(self, reader: Reader, dataset: str | None = None) -> list[Run]:
        scope = self._dataset_scope(reader, dataset)
        rows = self.con.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE {scope} ORDER BY started_at, run_id"
        ).fetchall()
        return [Run(*row) for row in rows]

    def run(self, reader: Reader, run_id: str) -> Run:
        scope = self._dataset_scope(reader)
        row = self.con.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE run_id = ? AND {scope}", [run_id]
        ).fetchone()
        if row is None:
            raise NotFound(f"no run {run_id!r}")
        return Run(*row)

    def rejected(
        self, reader: Reader, run_id: str, limit: int = 100, offset: int = 0
    ) -> list[RejectedRow]:
        self.run(reader, run_id)
        rows = self.con.execute(
            "SELECT run_id, source_file, row, record, reason FROM rejected_rows WHERE run_id = ? "
            "ORDER BY source_file, row LIMIT ? OFFSET ?",
            [run_id, limit, offset],
        ).fetchall()
        return [RejectedRow(*row) for row in rows]

    def dropped(
        self, reader: Reader, run_id: str, limit: int = 100, offset: int = 0
    ) -> list[DroppedValue]:
        self.run(reader, run_id)
        rows = self.con.execute(
            "SELECT run_id, source_file, row, entity, prop, value, reason FROM dropped_values "
            "WHERE run_id = ? ORDER BY source_file, row, entity, prop LIMIT ? OFFSET ?",
            [run_id, limit, offset],
        ).fetchall()
        return [DroppedValue(*row) for row in rows]

    # -- entities -------------------------------------------------------------------------
    def entity(self, reader: Reader, entity_id: str) -> Entity | None:
        """The entity as analysts see it: a merged entity holds the statements of every
        record judged the same (each statement keeps its record's id and source), under
        the canonical id, whichever of its records' ids is asked for."""
        canonical, members = self.members(entity_id)
        if len(members) == 1:
            return self.record(reader, entity_id)
        found = self._statements(reader, members)
        if not found:
            return None
        records = tuple(sorted({s.entity_id for s in found}))
        schema = self.common_schema({s.schema for s in found})
        return Entity(id=canonical, schema=schema, statements=found, records=records)

    def record(self, reader: Reader, entity_id: str) -> Entity | None:
        """One record's own statements, as its sources gave them (never merged)."""
        found = self._statements(reader, [entity_id])
        if not found:
            return None
        schema = self.common_schema({s.schema for s in found})
        return Entity(id=entity_id, schema=schema, statements=found)

    def members(self, entity_id: str) -> tuple[str, list[str]]:
        """(canonical id, record ids) of the entity ``entity_id`` belongs to."""
        rows = self.con.execute(
            "SELECT c.canonical_id, m.entity_id FROM resolve_canonical c JOIN "
            "resolve_canonical m USING (canonical_id) WHERE c.entity_id = ? ORDER BY 2",
            [entity_id],
        ).fetchall()
        if not rows:
            return entity_id, [entity_id]
        return str(rows[0][0]), [str(r[1]) for r in rows]

    def _statements(self, reader: Reader, ids: list[str]) -> tuple[Statement, ...]:
        scope = self._scope(reader)
        rows = self.con.execute(
            "SELECT entity_id, schema, prop, value, original_value, dataset, run_id, "
            "source_file, source_row, first_seen, last_seen FROM statement_provenance "
            f"WHERE entity_id IN ({', '.join('?' * len(ids))}) AND {scope} "
            "ORDER BY prop, value, dataset, entity_id",
            ids,
        ).fetchall()
        return tuple(Statement(r[0], r[1], r[2], self._prop_type(r[1], r[2]), *r[3:]) for r in rows)

    def _prop_type(self, schema: str, prop: str) -> str:
        if prop == "id":
            return "id"
        found = self.model.get_qname(f"{schema}:{prop}")
        return found.type.name if found is not None else "string"

    def entity_ids(self, reader: Reader, schema: str | None = None, limit: int = 10) -> list[str]:
        """Some ids of entities ``reader`` may see (of ``schema`` when given), in id order."""
        where = self._scope(reader)
        params: list[object] = []
        if schema is not None:
            where += " AND schema = ?"
            params.append(schema)
        rows = self.con.execute(
            f"SELECT DISTINCT entity_id FROM statements WHERE prop = 'id' AND {where} "
            "ORDER BY entity_id LIMIT ?",
            [*params, limit],
        ).fetchall()
        return [str(r[0]) for r in rows]

    def common_schema(self, names: set[str]) -> str:
        """The most specific schema all of ``names`` share (FtM's rule)."""
        ordered = sorted(names)
        schema = self.model.get(ordered[0])
        if schema is None:
            raise StoreError(f"statement with unknown schema {ordered[0]!r}")
        for name in ordered[1:]:
            schema = self.model.common_schema(schema, name)
        return schema.name

    def counts(self, reader: Reader) -> dict[str, int]:
        scope = self._scope(reader)
        row = self.con.execute(
            "SELECT count(*), count(DISTINCT entity_id) FROM statements WHERE " + scope
        ).fetchone()
        edges = self.con.execute("SELECT count(*) FROM edges WHERE " + scope).fetchone()
        assert row is not None
        assert edges is not None
        return {"statements": int(row[0]), "entities": int(row[1]), "edges": int(edges[0])}

    def _schema_table(self, scope: str) -> None:
        """A temp table giving the common schema of each set of schemata one entity has."""
        combos = self.con.execute(
            "SELECT DISTINCT combo FROM (SELECT list_sort(list(DISTINCT schema)) AS combo "
            "FROM statements st LEFT JOIN resolve_canonical rc USING (entity_id) "
            f"WHERE prop = 'id' AND {scope} GROUP BY coalesce(rc.canonical_id, entity_id)) "
            "WHERE len(combo) > 1"
        ).fetchall()
        rows = [(list(c[0]), self.common_schema(set(c[0]))) for c in combos]
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __schemata (combo VARCHAR[], schema VARCHAR)"
        )
        if rows:
            self.con.executemany("INSERT INTO __schemata VALUES (?, ?)", rows)

    def _entities_sql(self, scope: str) -> str:
        return f"""
            WITH s AS (SELECT coalesce(rc.canonical_id, sp.entity_id) AS entity_id,
                              sp.entity_id AS record_id, sp.* EXCLUDE (entity_id)
                       FROM statement_provenance sp
                       LEFT JOIN resolve_canonical rc ON rc.entity_id = sp.entity_id
                       WHERE {scope}),
            p AS (SELECT entity_id, prop, list(DISTINCT value ORDER BY value) AS vals
                  FROM s WHERE prop <> 'id' GROUP BY entity_id, prop),
            pm AS (SELECT entity_id, map_from_entries(list({{'k': prop, 'v': vals}}
                   ORDER BY prop)) AS properties FROM p GROUP BY entity_id),
            e AS (SELECT entity_id, list_sort(list(DISTINCT schema)) AS combo,
                  list_sort(list(DISTINCT dataset)) AS datasets,
                  strftime(min(first_seen), '%Y-%m-%dT%H:%M:%S') AS first_seen,
                  strftime(max(last_seen), '%Y-%m-%dT%H:%M:%S') AS last_seen,
                  list_sort(list(DISTINCT record_id)) AS records
                  FROM s GROUP BY entity_id)
            SELECT e.entity_id AS id, coalesce(x.schema, e.combo[1]) AS schema,
                   coalesce(pm.properties, MAP {{}}) AS properties,
                   e.datasets, e.first_seen, e.last_seen,
                   CASE WHEN len(e.records) > 1 THEN e.records ELSE [] END AS referents
            FROM e LEFT JOIN __schemata x ON x.combo = e.combo
            LEFT JOIN pm ON pm.entity_id = e.entity_id ORDER BY e.entity_id"""

    def iter_entities(self, reader: Reader, dataset: str | None = None) -> Iterator[dict[str, Any]]:
        scope = self._scope(reader, dataset)
        self._schema_table(scope)
        result = self.con.execute(self._entities_sql(scope))
        names = [d[0] for d in result.description or []]
        while batch := result.fetchmany(10_000):
            for row in batch:
                item = dict(zip(names, row, strict=True))
                item["properties"] = dict(item["properties"])
                yield item

    def export(self, reader: Reader, fmt: str, out: Path, dataset: str | None = None) -> int:
        """Write what ``reader`` may see to ``out``; returns the number of records."""
        from recoupe.store import export as exporter

        if fmt not in EXPORT_FORMATS:
            raise UnsupportedOperation(f"no export format {fmt!r} (use one of {EXPORT_FORMATS})")
        scope = self._scope(reader, dataset)
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "ftm":
            self._schema_table(scope)
            return exporter.write_ftm(self.con, self._entities_sql(scope), out)
        if fmt == "csv":
            return exporter.write_statements_csv(self.con, scope, out)
        return exporter.write_gexf(self.con, self.model, scope, out)

    # -- writing --------------------------------------------------------------------------
    def ingest_mapping(self, mapping: MappingSpec, progress: Progress | None = None) -> Run:
        from recoupe.store.duckdb_import import ImportRun

        with ImportRun(self, mapping.dataset, "mapping", mapping.file, progress) as run:
            run.plan_families(mapping.queries)
            for query in mapping.queries:
                run.add_query(query)
            return run.finish()

    def ingest_ftm(self, path: Path, meta: DatasetMeta, progress: Progress | None = None) -> Run:
        from recoupe.store.duckdb_import import ImportRun

        with ImportRun(self, meta, "ftm", str(path), progress) as run:
            run.add_ftm(path)
            return run.finish()


_RUN_COLUMNS = (
    "run_id, dataset, kind, source, status, started_at, finished_at, rows_read, rows_loaded, "
    "rows_rejected, rows_filtered, values_dropped, entities, statements, statements_new, "
    "seconds, error"
)
