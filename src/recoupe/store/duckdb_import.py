"""One import run into the DuckDB store: load, map, clean, check, write, derive edges.

The whole run is one transaction: a run that fails or is killed leaves the store as it
was. Work is done in chunks of rows by SQL the mapping compiler produced; Python only
cleans each distinct raw value once. Every row read is accounted for::

    rows_read = rows_loaded + rows_rejected + rows_filtered

Statements are written as chunks are mapped. Entities that can repeat across rows (a
phone line in every call it made) are first gathered and de-duplicated; a re-run of the
same import folds its statements into the existing ones (``last_seen`` moves).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import duckdb

from recoupe.errors import ImportFailed, RecoupeError
from recoupe.mapping.compile import QueryPlan, compile_query
from recoupe.mapping.spec import DatasetMeta, QuerySpec
from recoupe.sources.readers import LoadedSource, iter_parts, load_part
from recoupe.sql import quote_str
from recoupe.store.base import Progress, Run
from recoupe.store.edges import derive_edges_sql
from recoupe.store.staging import clean_new_values, record_sql, slot_values, watch_progress

if TYPE_CHECKING:
    from recoupe.store.duckdb import DuckDBStore

CHUNK_ROWS = 1_000_000
_STMT_COLS = "entity_id, schema, prop, value, original_value, source_id, source_row"


def new_run_id() -> str:
    return datetime.now().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


class ImportRun:
    """Context manager around one run; call ``add_query``/``add_ftm`` then ``finish``."""

    def __init__(
        self,
        store: DuckDBStore,
        meta: DatasetMeta,
        kind: str,
        source: str,
        progress: Progress | None,
        chunk_rows: int | None = None,
    ) -> None:
        self.store = store
        self.con = store.con
        self.meta = meta
        self.kind = kind
        self.source = source
        self.progress = progress or (lambda stage, done, total: None)
        self.chunk_rows = chunk_rows or CHUNK_ROWS
        self.run_id = new_run_id()
        self.now = datetime.now().replace(microsecond=0)
        self.started = time.monotonic()
        self.counts: Counter[str] = Counter()
        self.fam_parts: Counter[str] = Counter()
        self.slow_fams: set[str] = set()
        self.prior = False
        self.table_n = 0
        self.source_ids: list[int] = []

    # -- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> ImportRun:
        self.store.upsert_dataset(self.meta)
        self.con.execute(
            "INSERT INTO runs (run_id, dataset, kind, source, status, started_at) "
            "VALUES (?, ?, ?, ?, 'running', ?)",
            [self.run_id, self.meta.name, self.kind, self.source, self.now],
        )
        self.con.execute("BEGIN TRANSACTION")
        prior = self.con.execute(
            "SELECT count(*) FROM sources WHERE dataset = ?", [self.meta.name]
        ).fetchone()
        self.prior = bool(prior and prior[0])
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __cache (cleaner VARCHAR, raw VARCHAR, "
            "value VARCHAR, reason VARCHAR)"
        )
        self.con.execute("CREATE OR REPLACE TEMP TABLE __touched (entity_id VARCHAR)")
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __values (entity_id VARCHAR, schema VARCHAR, "
            "prop VARCHAR, value VARCHAR, first STRUCT(s INTEGER, r BIGINT, o VARCHAR))"
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            return
        with contextlib.suppress(duckdb.Error):
            self.con.execute("ROLLBACK")
        message = str(exc) if isinstance(exc, RecoupeError) else f"{type(exc).__name__}: {exc}"
        self.con.execute(
            "UPDATE runs SET status = 'failed', finished_at = ?, seconds = ?, error = ? "
            "WHERE run_id = ?",
            [datetime.now(), time.monotonic() - self.started, message, self.run_id],
        )
        if isinstance(exc, (RecoupeError, duckdb.Error, OSError)):
            raise ImportFailed(
                f"import run {self.run_id} failed, nothing was written: {message}"
            ) from exc

    # -- mapping queries ------------------------------------------------------------------
    def plan_families(self, queries: tuple[QuerySpec, ...]) -> None:
        """Count where each id family appears: shared families need de-duplication."""
        for query in queries:
            if query.source.format == "ftm":
                continue
            plan = compile_query(query, self.store.model)
            parts = len(list(iter_parts(query.source)))
            for ent, fam in plan.families.items():
                self.fam_parts[fam] += parts
                if ent in plan.multi_valued:
                    self.slow_fams.add(fam)
        for ent_fam, n in self.fam_parts.items():
            if n > 1:
                self.slow_fams.add(ent_fam)

    def add_query(self, query: QuerySpec) -> None:
        if query.source.format == "ftm":
            for part in query.source.paths:
                self.add_ftm(Path(part))
            return
        plan = compile_query(query, self.store.model)
        if not self.fam_parts:
            self.plan_families((query,))
        for part in iter_parts(query.source):
            table = self._table("src")
            name = Path(part).name
            self.con.execute("SET preserve_insertion_order = true")
            with watch_progress(self.con, f"reading {name}", self.progress):
                loaded = load_part(self.con, query.source, part, table, self.store.tmp)
            self.con.execute("SET preserve_insertion_order = false")
            missing = [c for c in plan.columns if c not in loaded.columns]
            if missing:
                raise ImportFailed(
                    f"{self.source}, key {query.key}: column(s) {', '.join(map(repr, missing))} "
                    f"not in {loaded.file} (columns: {', '.join(loaded.columns)})"
                )
            source_id = self._new_source(loaded.file)
            self._record_parse_rejects(loaded)
            self._check_unique(plan, loaded)
            self._map_part(plan, loaded, source_id)
            self.con.execute(f"DROP TABLE {table}")

    def _new_source(self, file: str) -> int:
        row = self.con.execute(
            "INSERT INTO sources SELECT nextval('source_ids'), ?, ?, ?, ? RETURNING source_id",
            [self.run_id, self.meta.name, file, self.now],
        ).fetchone()
        assert row is not None
        self.source_ids.append(int(row[0]))
        return int(row[0])

    def _table(self, prefix: str) -> str:
        self.table_n += 1
        return f"__{prefix}_{self.table_n}"

    def _record_parse_rejects(self, loaded: LoadedSource) -> None:
        self.counts["rows_read"] += loaded.rows
        if not loaded.rejects:
            return
        self.con.executemany(
            "INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?)",
            [(self.run_id, loaded.file, r.row, r.record, r.reason) for r in loaded.rejects],
        )
        self.counts["rows_rejected"] += len(loaded.rejects)

    def _check_unique(self, plan: QueryPlan, loaded: LoadedSource) -> None:
        """A family seen only here is written directly when its ids never repeat."""
        for ent, fam in plan.families.items():
            if fam in self.slow_fams:
                continue
            expr = plan.id_exprs[ent]
            row = self.con.execute(
                f"SELECT count(k) = count(DISTINCT k) FROM (SELECT {expr} AS k FROM {loaded.table})"
            ).fetchone()
            if not (row and row[0]):
                self.slow_fams.add(fam)

    def _slots_table(self, plan: QueryPlan) -> None:
        rows = [
            (s.slot, s.ent, s.schema, s.prop, s.cleaner, s.required, s.fam in self.slow_fams,
             s.role)
            for s in plan.slots
        ]  # fmt: skip
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __slots (slot SMALLINT, ent VARCHAR, schema VARCHAR, "
            "prop VARCHAR, cleaner VARCHAR, required BOOLEAN, slow BOOLEAN, role VARCHAR)"
        )
        self.con.executemany("INSERT INTO __slots VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)

    def _map_part(self, plan: QueryPlan, loaded: LoadedSource, source_id: int) -> None:
        src = loaded.table
        last = self.con.execute(f"SELECT coalesce(max(__row), 0) FROM {src}").fetchone()
        total = int(last[0]) if last else 0
        label = Path(loaded.file).name
        record = record_sql(loaded.columns)
        self._slots_table(plan)
        chunked = 0
        for lo in range(1, total + 1, self.chunk_rows):
            hi = lo + self.chunk_rows
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE __chunk AS " + plan.chunk_sql.replace("{src}", src),
                {"lo": lo, "hi": hi},
            )
            n = self.con.execute("SELECT count(*) FROM __chunk").fetchone()
            chunked += int(n[0]) if n else 0
            self._reject_keyless(plan, src, loaded.file, record)
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE __staged AS "
                + plan.stage_sql.replace("{chunk}", "__chunk")
            )
            self._clean_new_values(plan)
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE __clean AS SELECT s.__row, s.slot, s.entity_id, "
                "s.raw, c.value, c.reason FROM __staged s JOIN __slots l ON l.slot = s.slot "
                "LEFT JOIN __cache c ON c.cleaner = l.cleaner AND c.raw = s.raw WHERE NOT s.fast"
            )
            self.con.execute("DELETE FROM __staged WHERE NOT fast")
            self._reject_required(plan, src, loaded.file, record)
            self._write_values(plan, loaded.file, source_id)
            if not self.prior:
                self._write_edges(plan, source_id)
            self.progress(f"mapping {label}", min(hi - 1, total), total)
        src_rows = self.con.execute(f"SELECT count(*) FROM {src}").fetchone()
        self.counts["rows_filtered"] += (int(src_rows[0]) if src_rows else 0) - chunked
        for name in ("__chunk", "__staged", "__clean", "__bad", "__slots"):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def _reject_keyless(self, plan: QueryPlan, src: str, file: str, record_sql: str) -> None:
        """Reject rows where no entity, or an entity with required values, has a key."""
        ids = ", ".join(plan.id_columns.values())
        keys = "; ".join(plan.key_descriptions.values())
        nobody = f"no entity could be identified: every key is empty ({keys})"
        cases = [f"WHEN coalesce({ids}) IS NULL THEN {quote_str(nobody)}"]
        for ent in sorted({r.ent for r in plan.required}):
            reason = f"{ent}: every key is empty ({plan.key_descriptions[ent]})"
            cases.append(f"WHEN {plan.id_columns[ent]} IS NULL THEN {quote_str(reason)}")
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __bad AS SELECT __row, reason FROM (SELECT __row, "
            f"CASE {' '.join(cases)} END AS reason FROM __chunk) WHERE reason IS NOT NULL"
        )
        if self._insert_rejects(src, file, record_sql):
            self.con.execute("DELETE FROM __chunk WHERE __row IN (SELECT __row FROM __bad)")

    # Every staged value with its slot: already clean ones, then those cleaned via the cache.
    _CLEANED = (
        "(SELECT v.*, l.ent, l.schema, l.prop, l.required, l.slow, l.role FROM ("
        "SELECT __row, slot, entity_id, raw, raw AS value, NULL::VARCHAR AS reason "
        "FROM __staged UNION ALL SELECT __row, slot, entity_id, raw, value, reason "
        "FROM __clean) v JOIN __slots l ON l.slot = v.slot)"
    )
    _FAILED = (
        "(SELECT c.*, l.ent, l.schema, l.prop, l.required FROM __clean c "
        "JOIN __slots l ON l.slot = c.slot WHERE c.value IS NULL)"
    )

    def _reject_required(self, plan: QueryPlan, src: str, file: str, record_sql: str) -> None:
        if not plan.required:
            return
        multi = any(r.multi for r in plan.required)
        # A multi-valued required property is satisfied by any one valid value.
        sibling = (
            f"AND NOT EXISTS (SELECT 1 FROM {self._CLEANED} d WHERE d.__row = c.__row "
            "AND d.ent = c.ent AND d.prop = c.prop AND d.value IS NOT NULL)"
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __bad AS SELECT __row, string_agg(DISTINCT "
            "ent || '.' || prop || ': ' || CASE WHEN raw IS NULL THEN 'required value is empty' "
            "ELSE coalesce(reason, 'invalid value') || ' ' || to_json(raw)::VARCHAR END, '; ') "
            f"AS reason FROM {self._FAILED} c WHERE required "
            f"{sibling if multi else ''} GROUP BY __row"
        )
        if self._insert_rejects(src, file, record_sql):
            for name in ("__staged", "__clean", "__chunk"):
                self.con.execute(f"DELETE FROM {name} WHERE __row IN (SELECT __row FROM __bad)")

    def _insert_rejects(self, src: str, file: str, record_sql: str) -> int:
        row = self.con.execute(
            "INSERT INTO rejected_rows SELECT ?, ?, b.__row, "
            f"{record_sql}, b.reason FROM __bad b JOIN {src} s ON s.__row = b.__row",
            [self.run_id, file],
        ).fetchone()
        n = int(row[0]) if row else 0
        self.counts["rows_rejected"] += n
        return n

    def _clean_new_values(self, plan: QueryPlan) -> None:
        clean_new_values(self.con, plan, self.progress)

    def _write_values(self, plan: QueryPlan, file: str, source_id: int) -> None:
        n = self.con.execute(
            "INSERT INTO dropped_values SELECT ?, ?, __row, ent, prop, raw, "
            f"coalesce(reason, 'invalid value') FROM {self._FAILED} WHERE raw IS NOT NULL",
            [self.run_id, file],
        ).fetchone()
        self.counts["values_dropped"] += int(n[0]) if n else 0
        fast = [s for s in plan.slots if s.fam not in self.slow_fams]
        slow = [s for s in plan.slots if s.fam in self.slow_fams]
        if fast:
            n = self.con.execute(
                f"INSERT INTO statements ({_STMT_COLS}) SELECT entity_id, schema, prop, value, "
                f"original_value, $sid, __row FROM {slot_values(fast)}",
                {"sid": source_id},
            ).fetchone()
            self.counts["statements"] += int(n[0]) if n else 0
        if slow:
            self.con.execute(
                "INSERT INTO __values SELECT entity_id, schema, prop, value, "
                "min({'s': $sid, 'r': __row, 'o': original_value}) "
                f"FROM {slot_values(slow)} GROUP BY entity_id, schema, prop, value",
                {"sid": source_id},
            )

    def _write_edges(self, plan: QueryPlan, source_id: int) -> None:
        """Edges of entities written directly, read from each row's entity ids."""
        selects: list[str] = []
        for ent, fam in plan.families.items():
            if fam in self.slow_fams:
                continue
            sql = plan.edge_sql.get(ent)
            if sql is None:  # links with several values: derived from statements at the end
                self.con.execute(
                    f"INSERT INTO __touched SELECT {plan.id_columns[ent]} FROM __chunk "
                    f"WHERE {plan.id_columns[ent]} IS NOT NULL"
                )
            elif sql:
                selects.append(sql)
        if not selects:
            return
        values = (
            "(SELECT __row, slot, raw AS value FROM __staged UNION ALL "
            "SELECT __row, slot, value FROM __clean WHERE value IS NOT NULL)"
        )
        union = " UNION ALL ".join(
            sql.replace("{chunk}", "__chunk").replace("{values}", values) for sql in selects
        )
        self.con.execute(f"INSERT INTO edges SELECT *, $sid FROM ({union})", {"sid": source_id})

    # -- FtM entities ---------------------------------------------------------------------
    def add_ftm(self, path: Path) -> None:
        from recoupe.store.ftm_import import load_ftm

        table = self._table("src")
        loaded = load_ftm(self.con, self.store.model, path, table)
        source_id = self._new_source(loaded.file)
        self._record_parse_rejects(loaded)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE __bad AS SELECT __row, reason FROM {table}__rejects"
        )
        self._insert_rejects(table, loaded.file, "s.record")
        n = self.con.execute(
            "INSERT INTO dropped_values SELECT ?, ?, __row, 'entity', prop, raw, reason "
            f"FROM {table}__dropped",
            [self.run_id, loaded.file],
        ).fetchone()
        self.counts["values_dropped"] += int(n[0]) if n else 0
        self.con.execute(
            "INSERT INTO __values SELECT entity_id, schema, prop, value, "
            f"min({{'s': $sid, 'r': __row, 'o': NULL::VARCHAR}}) FROM {table}__values "
            "GROUP BY entity_id, schema, prop, value",
            {"sid": source_id},
        )
        for suffix in ("", "__rejects", "__dropped", "__values"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}{suffix}")

    # -- finishing ------------------------------------------------------------------------
    def finish(self) -> Run:
        self.progress("writing statements", 0, 1)
        n = self.con.execute(
            f"INSERT INTO statements ({_STMT_COLS}) SELECT entity_id, schema, prop, value, "
            "f.o, f.s, f.r FROM (SELECT entity_id, schema, prop, value, min(first) AS f "
            "FROM __values GROUP BY entity_id, schema, prop, value)"
        ).fetchone()
        self.counts["statements"] += int(n[0]) if n else 0
        self.con.execute("INSERT INTO __touched SELECT DISTINCT entity_id FROM __values")
        self.con.execute("DROP TABLE __values")
        new = self.counts["statements"]
        if self.prior:
            new -= self._fold_into_existing()
        self.counts["statements_new"] = new
        self.progress("writing statements", 1, 1)
        self.progress("deriving edges", 0, 1)
        self._derive_edges()
        self.progress("deriving edges", 1, 1)
        ent = self.con.execute(
            f"SELECT count(DISTINCT entity_id) FROM statements WHERE prop = 'id' AND {self._mine()}"
        ).fetchone()
        self.counts["entities"] = int(ent[0]) if ent else 0
        c = self.counts
        c["rows_loaded"] = c["rows_read"] - c["rows_rejected"] - c["rows_filtered"]
        seconds = round(time.monotonic() - self.started, 3)
        self.con.execute(
            "UPDATE runs SET status = 'succeeded', finished_at = ?, rows_read = ?, "
            "rows_loaded = ?, rows_rejected = ?, rows_filtered = ?, values_dropped = ?, "
            "entities = ?, statements = ?, statements_new = ?, seconds = ? WHERE run_id = ?",
            [
                datetime.now(), c["rows_read"], c["rows_loaded"], c["rows_rejected"],
                c["rows_filtered"], c["values_dropped"], c["entities"], c["statements"],
                c["statements_new"], seconds, self.run_id,
            ],
        )  # fmt: skip
        self.con.execute("COMMIT")
        from recoupe.security.reader import Reader

        return self.store.run(Reader.system(), self.run_id)

    def _ids(self, ids: list[int]) -> str:
        return "[" + ", ".join(str(i) for i in ids) + "]::INTEGER[]"

    def _mine(self) -> str:
        """Statements written or seen again by this run."""
        mine = self._ids(self.source_ids)
        return f"(list_contains({mine}, source_id) OR list_contains({mine}, last_source_id))"

    def _fold_into_existing(self) -> int:
        """Merge this run's statements with identical earlier ones; return how many."""
        earlier = self.con.execute(
            "SELECT list(source_id) FROM sources WHERE dataset = ? AND run_id <> ?",
            [self.meta.name, self.run_id],
        ).fetchone()
        old = self._ids(list(earlier[0] or []) if earlier else [])
        new = self._ids(self.source_ids)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __dup AS SELECT n.rowid AS new_id, o.rowid AS old_id, "
            "n.source_id AS sid FROM (SELECT rowid, * FROM statements WHERE "
            f"list_contains({new}, source_id)) n JOIN (SELECT rowid, * FROM statements WHERE "
            f"list_contains({old}, source_id)) o ON o.entity_id = n.entity_id "
            "AND o.schema = n.schema AND o.prop = n.prop AND o.value = n.value"
        )
        self.con.execute(
            "UPDATE statements SET last_source_id = d.sid FROM __dup d "
            "WHERE statements.rowid = d.old_id"
        )
        n = self.con.execute(
            "DELETE FROM statements WHERE rowid IN (SELECT new_id FROM __dup)"
        ).fetchone()
        self.con.execute("DROP TABLE __dup")
        return int(n[0]) if n else 0

    def _derive_edges(self) -> None:
        """Edges of de-duplicated entities (and of every entity a re-run touched)."""
        mine = self._mine()
        if self.prior:
            self.con.execute(
                f"INSERT INTO __touched SELECT DISTINCT entity_id FROM statements WHERE {mine}"
            )
            earlier = self.con.execute(
                "SELECT list(source_id) FROM sources WHERE dataset = ?", [self.meta.name]
            ).fetchone()
            every = self._ids(list(earlier[0] or []) if earlier else [])
            self.con.execute(
                f"DELETE FROM edges WHERE list_contains({every}, source_id) AND entity_id IN "
                "(SELECT entity_id FROM __touched)"
            )
        else:
            every = self._ids(self.source_ids)
        scope = (
            f"list_contains({every}, source_id) AND entity_id IN (SELECT entity_id FROM __touched)"
        )
        self.con.execute("INSERT INTO edges " + derive_edges_sql(self.store.model, scope))
        self.con.execute("DROP TABLE IF EXISTS __touched")
