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

import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from recoupe.errors import ImportFailed, RecoupeError
from recoupe.mapping.clean import Cleaner, clean_distinct
from recoupe.mapping.compile import QueryPlan, compile_query, quote_ident, quote_str
from recoupe.mapping.spec import DatasetMeta, QuerySpec
from recoupe.sources.readers import LoadedSource, iter_parts, load_part
from recoupe.store.base import Progress, Run
from recoupe.store.edges import derive_edges_sql

if TYPE_CHECKING:
    from recoupe.store.duckdb import DuckDBStore

CHUNK_ROWS = 500_000
_STMT_COLS = (
    "entity_id, schema, prop, prop_type, value, original_value, dataset, run_id, last_run_id, "
    "source_file, source_row, first_seen, last_seen"
)


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
        self.fam_entities: dict[str, int] = {}
        self.prior = False
        self.table_n = 0

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
            "SELECT count(*) FROM (SELECT 1 FROM statements WHERE dataset = ? LIMIT 1)",
            [self.meta.name],
        ).fetchone()
        self.prior = bool(prior and prior[0])
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __cache (cleaner VARCHAR, raw VARCHAR, "
            "value VARCHAR, reason VARCHAR)"
        )
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __values (fam VARCHAR, entity_id VARCHAR, "
            "schema VARCHAR, prop VARCHAR, prop_type VARCHAR, value VARCHAR, "
            "original_value VARCHAR, source_file VARCHAR, source_row BIGINT)"
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
        try:
            self.con.execute("ROLLBACK")
        except duckdb.Error:
            pass
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
            plan = compile_query(query, self.store.model)
            parts = len(list(iter_parts(query.source)))
            for ent, fam in plan.families.items():
                self.fam_parts[fam] += parts
                if ent in plan.multi_valued:
                    self.slow_fams.add(fam)
        self.slow_fams.update(f for f, n in self.fam_parts.items() if n > 1)

    def add_query(self, query: QuerySpec) -> None:
        plan = compile_query(query, self.store.model)
        if not self.fam_parts:
            self.plan_families((query,))
        for part in iter_parts(query.source):
            table = self._table("src")
            self.progress(f"reading {Path(part).name}", 0, 1)
            loaded = load_part(self.con, query.source, part, table, self.store.tmp)
            self.progress(f"reading {Path(part).name}", 1, 1)
            missing = [c for c in plan.columns if c not in loaded.columns]
            if missing:
                raise ImportFailed(
                    f"{self.source}, key {query.key}: column(s) {', '.join(map(repr, missing))} "
                    f"not in {loaded.file} (columns: {', '.join(loaded.columns)})"
                )
            self._record_parse_rejects(loaded)
            self._check_unique(plan, loaded)
            self._map_part(plan, loaded)
            self.con.execute(f"DROP TABLE {table}")

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

    def _map_part(self, plan: QueryPlan, loaded: LoadedSource) -> None:
        src = loaded.table
        last = self.con.execute(f"SELECT coalesce(max(__row), 0) FROM {src}").fetchone()
        total = int(last[0]) if last else 0
        label = Path(loaded.file).name
        record_sql = _record_sql(loaded.columns)
        chunked = 0
        for lo in range(1, total + 1, self.chunk_rows):
            hi = lo + self.chunk_rows
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE __chunk AS " + plan.chunk_sql.replace("{src}", src),
                {"lo": lo, "hi": hi},
            )
            n = self.con.execute("SELECT count(*) FROM __chunk").fetchone()
            chunked += int(n[0]) if n else 0
            self._reject_keyless(plan, src, loaded.file, record_sql)
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE __staged AS SELECT *, {plan.fast_sql} AS fast "
                "FROM (" + plan.stage_sql.replace("{chunk}", "__chunk") + ")"
            )
            self._clean_new_values(plan)
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE __clean AS SELECT s.*, "
                "CASE WHEN s.fast THEN s.raw ELSE c.value END AS value, c.reason "
                "FROM __staged s LEFT JOIN __cache c ON NOT s.fast AND c.cleaner = s.cleaner "
                "AND c.raw = s.raw"
            )
            self._reject_required(plan, src, loaded.file, record_sql)
            self._write_values(loaded.file)
            self.progress(f"mapping {label}", min(hi - 1, total), total)
        src_rows = self.con.execute(f"SELECT count(*) FROM {src}").fetchone()
        self.counts["rows_filtered"] += (int(src_rows[0]) if src_rows else 0) - chunked
        for name in ("__chunk", "__staged", "__clean", "__bad"):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def _reject_keyless(self, plan: QueryPlan, src: str, file: str, record_sql: str) -> None:
        ids = ", ".join(plan.id_columns.values())
        keys = "; ".join(plan.key_descriptions.values())
        reason = f"no entity could be identified: every key is empty ({keys})"
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __bad AS SELECT __row, "
            f"{quote_str(reason)} AS reason FROM __chunk WHERE coalesce({ids}) IS NULL"
        )
        self._insert_rejects(src, file, record_sql)

    def _reject_required(self, plan: QueryPlan, src: str, file: str, record_sql: str) -> None:
        if not plan.required:
            self.con.execute("CREATE OR REPLACE TEMP TABLE __bad (__row BIGINT, reason VARCHAR)")
            return
        sibling = (
            "AND NOT EXISTS (SELECT 1 FROM __clean d WHERE d.__row = c.__row AND d.ent = c.ent "
            "AND d.prop = c.prop AND d.value IS NOT NULL)"
        )
        multi = any(r.multi for r in plan.required)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __bad AS SELECT __row, string_agg(DISTINCT "
            "ent || '.' || prop || ': ' || CASE WHEN raw IS NULL THEN 'required value is empty' "
            "ELSE coalesce(reason, 'invalid value') || ' ' || to_json(raw)::VARCHAR END, '; ') "
            f"AS reason FROM __clean c WHERE required AND value IS NULL {sibling if multi else ''} "
            "GROUP BY __row"
        )
        self._insert_rejects(src, file, record_sql)
        self.con.execute("DELETE FROM __clean WHERE __row IN (SELECT __row FROM __bad)")

    def _insert_rejects(self, src: str, file: str, record_sql: str) -> None:
        n = self.con.execute(
            "INSERT INTO rejected_rows SELECT ?, ?, b.__row, "
            f"{record_sql}, b.reason FROM __bad b JOIN {src} s ON s.__row = b.__row",
            [self.run_id, file],
        ).fetchone()
        self.counts["rows_rejected"] += int(n[0]) if n else 0

    def _clean_new_values(self, plan: QueryPlan) -> None:
        if not plan.cleaners:
            return
        new = self.con.execute(
            "SELECT DISTINCT s.cleaner, s.raw FROM __staged s ANTI JOIN __cache c "
            "ON c.cleaner = s.cleaner AND c.raw = s.raw "
            "WHERE NOT s.fast AND s.raw IS NOT NULL"
        ).to_arrow_table()
        if new.num_rows == 0:
            return
        cleaners = {c.id: c for c in plan.cleaners}
        by_cleaner: dict[str, list[str]] = {}
        for cid, raw in zip(
            new.column("cleaner").to_pylist(), new.column("raw").to_pylist(), strict=True
        ):
            by_cleaner.setdefault(cid, []).append(raw)
        for cid, raws in by_cleaner.items():
            cleaner: Cleaner = cleaners[cid]
            values, reasons = clean_distinct(cleaner, raws)
            batch = pa.table(
                {
                    "cleaner": pa.array([cid] * len(raws), pa.string()),
                    "raw": pa.array(raws, pa.string()),
                    "value": pa.array(values, pa.string()),
                    "reason": pa.array([r or None for r in reasons], pa.string()),
                }
            )
            self.con.register("__cleaned", batch)
            self.con.execute("INSERT INTO __cache SELECT * FROM __cleaned")
            self.con.unregister("__cleaned")

    def _write_values(self, file: str) -> None:
        n = self.con.execute(
            "INSERT INTO dropped_values SELECT ?, ?, __row, ent, prop, raw, "
            "coalesce(reason, 'invalid value') FROM __clean WHERE value IS NULL AND raw IS NOT NULL",
            [self.run_id, file],
        ).fetchone()
        self.counts["values_dropped"] += int(n[0]) if n else 0
        slow = "[" + ", ".join(quote_str(f) for f in sorted(self.slow_fams)) + "]::VARCHAR[]"
        original = "CASE WHEN raw IS DISTINCT FROM value THEN raw END"
        n = self.con.execute(
            f"INSERT INTO statements ({_STMT_COLS}) SELECT entity_id, schema, prop, prop_type, "
            f"value, {original}, ?, ?, ?, ?, __row, ?, ? FROM __clean "
            f"WHERE value IS NOT NULL AND NOT list_contains({slow}, fam)",
            [self.meta.name, self.run_id, self.run_id, file, self.now, self.now],
        ).fetchone()
        self.counts["statements"] += int(n[0]) if n else 0
        self.con.execute(
            "INSERT INTO __values SELECT fam, entity_id, schema, prop, prop_type, value, "
            f"{original}, ?, __row FROM __clean WHERE value IS NOT NULL AND list_contains({slow}, fam)",
            [file],
        )

    # -- FtM entities ---------------------------------------------------------------------
    def add_ftm(self, path: Path) -> None:
        from recoupe.store.ftm_import import load_ftm

        table = self._table("src")
        loaded = load_ftm(self.con, self.store.model, path, table)
        self.slow_fams.add("ftm")
        self._record_parse_rejects(loaded)
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __bad AS SELECT __row, reason FROM "
            f"{table}__rejects"
        )
        self._insert_rejects(table, loaded.file, "s.record")
        self.con.execute(
            "INSERT INTO dropped_values SELECT ?, ?, __row, 'entity', prop, raw, reason "
            f"FROM {table}__dropped",
            [self.run_id, loaded.file],
        )
        dropped = self.con.execute(f"SELECT count(*) FROM {table}__dropped").fetchone()
        self.counts["values_dropped"] += int(dropped[0]) if dropped else 0
        self.con.execute(
            "INSERT INTO __values SELECT 'ftm', entity_id, schema, prop, prop_type, value, "
            f"NULL, ?, __row FROM {table}__values",
            [loaded.file],
        )
        for suffix in ("", "__rejects", "__dropped", "__values"):
            self.con.execute(f"DROP TABLE IF EXISTS {table}{suffix}")

    # -- finishing ------------------------------------------------------------------------
    def finish(self) -> Run:
        self.progress("writing statements", 0, 1)
        n = self.con.execute(
            f"INSERT INTO statements ({_STMT_COLS}) SELECT entity_id, schema, prop, prop_type, "
            "value, first.o, ?, ?, ?, first.f, first.r, ?, ? FROM (SELECT entity_id, schema, "
            "prop, any_value(prop_type) AS prop_type, value, min({'f': source_file, "
            "'r': source_row, 'o': original_value}) AS first FROM __values "
            "GROUP BY entity_id, schema, prop, value)",
            [self.meta.name, self.run_id, self.run_id, self.now, self.now],
        ).fetchone()
        self.counts["statements"] += int(n[0]) if n else 0
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
            "SELECT count(DISTINCT entity_id) FROM statements WHERE last_run_id = ? "
            "AND dataset = ?",
            [self.run_id, self.meta.name],
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

    def _fold_into_existing(self) -> int:
        """Merge this run's statements with identical earlier ones; return how many."""
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE __dup AS SELECT n.rowid AS new_id, o.rowid AS old_id "
            "FROM statements n JOIN statements o ON o.entity_id = n.entity_id "
            "AND o.schema = n.schema AND o.prop = n.prop AND o.value = n.value "
            "WHERE n.run_id = $run AND n.dataset = $ds AND o.dataset = $ds AND o.run_id <> $run",
            {"run": self.run_id, "ds": self.meta.name},
        )
        self.con.execute(
            "UPDATE statements SET last_seen = ?, last_run_id = ? "
            "WHERE rowid IN (SELECT old_id FROM __dup)",
            [self.now, self.run_id],
        )
        n = self.con.execute(
            "DELETE FROM statements WHERE rowid IN (SELECT new_id FROM __dup)"
        ).fetchone()
        self.con.execute("DROP TABLE __dup")
        return int(n[0]) if n else 0

    def _derive_edges(self) -> None:
        params = {"run": self.run_id, "ds": self.meta.name}
        if self.prior:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE __touched AS SELECT DISTINCT entity_id "
                "FROM statements WHERE last_run_id = $run AND dataset = $ds",
                params,
            )
            self.con.execute(
                "DELETE FROM edges WHERE dataset = $ds AND entity_id IN "
                "(SELECT entity_id FROM __touched)",
                {"ds": self.meta.name},
            )
            scope = (
                "dataset = $ds AND entity_id IN (SELECT entity_id FROM __touched)"
            )
        else:
            scope = "dataset = $ds AND run_id = $run"
        sql = "INSERT INTO edges " + derive_edges_sql(self.store.model, scope)
        self.con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})
        self.con.execute("DROP TABLE IF EXISTS __touched")


def _record_sql(columns: tuple[str, ...]) -> str:
    """The original record of a source row as a JSON object (``s`` is the source table)."""
    if not columns:
        return "'{}'"
    fields = ", ".join(f"{quote_str(c)}: s.{quote_ident(c)}" for c in columns)
    return f"to_json({{{fields}}})::VARCHAR"
