"""The columns of the link graph, computed in SQL on the DuckDB store.

Nodes are the entities at either end of an ``edges`` row, plus one node per *shared
value*: a phone number, email, address or identifier (IBAN, passport or ID number, IMEI...)
held by at least two distinct entities, each of which links to it with a ``shared`` edge:
the same phone in two records is a link even when no source says so. Entities of edge
schemata (calls, payments, directorships) share nothing: they are links already.

Edges are the ``edges`` rows, except the property links held by an entity of an edge schema
(a call's cell towers: they would turn every call into a node). Each keeps its schema,
kind, dates (days since 1970-01-01), dataset and, for an edge entity, its id.

A record merged into an entity (:mod:`recoupe.store.resolution`) is its canonical
entity's node: its links, shared values and captions are the merged entity's.

Every string id becomes an integer in SQL (``row_number`` over the sorted ids), so Python
only ever sees columns: results stream as Arrow batches into the graph's files
(:class:`~recoupe.graph.files.GraphWriter`), strings straight to disk, and no loop runs over
rows. The whole build reads one snapshot of the store (a transaction), so an import that
commits meanwhile is either all in or all out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from followthemoney.exc import InvalidData
from followthemoney.model import Model

from recoupe.errors import StoreError
from recoupe.graph.data import ANY_DATASET, EDGE_KINDS, NO_DATE, GraphData
from recoupe.graph.files import GraphWriter
from recoupe.security.reader import Reader
from recoupe.sql import quote_str, values_table
from recoupe.store.base import Progress
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.resolution import resolution_version

SHARED_TYPES = ("phone", "email", "identifier", "address")
NOT_SHARED = {
    "BankAccount:bic": "the bank's code, the same on every account it keeps",
    "LegalEntity:okvedCode": "an activity class, shared by every firm in it",
    "EconomicActivity:vedCode": "an activity class, shared by every firm in it",
    "Thing:programId": "a sanctions programme, shared by everyone it lists",
    "Sanction:programId": "a sanctions programme, shared by everyone it lists",
    "Risk:programId": "a sanctions programme, shared by everyone it lists",
    "CallForTenders:cpvCode": "a procurement category, shared by many tenders",
    "CallForTenders:nutsCode": "a region code, shared by many tenders",
    "Travel:transportNumber": "a flight or train number, the same for every passenger",
    "CellTower:address": "the area a tower serves, not one door",
}
"""Properties (``Schema:prop``) whose values name a group, not one thing: never a shared link."""
EVENTS = ("Call", "Event", "Message", "Payment", "PhoneCall", "Travel")
"""Schemata of things that happen at one time: without an end date, they end on their start."""
_TABLES = ("__graph_nodes", "__graph_values", "__graph_labels")
_EDGE_COLUMNS: dict[str, tuple[str, Any]] = {
    "src": ("src", np.int32),
    "dst": ("dst", np.int32),
    "kind": ("edge_kind", np.int8),
    "schema": ("edge_schema", np.int16),
    "prop": ("edge_prop", np.int16),
    "start_day": ("edge_start", np.int32),
    "end_day": ("edge_end", np.int32),
    "dataset": ("edge_dataset", np.int16),
    "entity_id": ("edge_entity", str),
}
_LABEL_COLUMNS: dict[str, tuple[str, Any]] = {
    "node": ("label_node", np.int32),
    "dataset": ("label_dataset", np.int16),
    "schema": ("label_schema", np.int16),
    "caption": ("label_caption", str),
}
BATCH_ROWS = 1_000_000
T = TypeVar("T", bound=np.generic)


def shared_properties(model: Model) -> list[tuple[str, str, str]]:
    """(schema, property, value kind) of every property whose values may be shared.

    The kind is the property type's name, or an identifier's format (``iban``) when set.
    """
    found: list[tuple[str, str, str]] = []
    for schema in sorted(model.schemata.values(), key=lambda s: s.name):
        if schema.edge:
            continue
        for prop in sorted(schema.properties.values(), key=lambda p: p.name):
            if prop.type.name not in SHARED_TYPES or prop.stub:
                continue
            if prop.qname in NOT_SHARED or f"{schema.name}:{prop.name}" in NOT_SHARED:
                continue
            kind = prop.format if prop.type.name == "identifier" and prop.format else None
            found.append((schema.name, prop.name, kind or prop.type.name))
    return found


def _codes(names: list[str], alias: str) -> str:
    """A subquery numbering ``names`` (``name``, ``code``)."""
    if not names:
        return f"(SELECT NULL::VARCHAR AS name, NULL::INTEGER AS code WHERE false) {alias}"
    rows = ", ".join(f"({quote_str(n)}, {i})" for i, n in enumerate(names))
    return f"(SELECT * FROM (VALUES {rows}) v(name, code)) {alias}"


def _days(column: str, end: bool) -> str:
    """SQL turning a (possibly partial) date into days since 1970-01-01, or NO_DATE."""
    year = f"left({column}, 4) || '-12-31'" if end else f"left({column}, 4) || '-01-01'"
    month = f"try_cast(left({column}, 7) || '-01' AS DATE)"
    day = f"""CASE WHEN length({column}) >= 10 THEN try_cast(left({column}, 10) AS DATE)
                 WHEN length({column}) >= 7 THEN {f"last_day({month})" if end else month}
                 ELSE try_cast({year} AS DATE) END"""
    return f"coalesce(datediff('day', DATE '1970-01-01', {day})::INTEGER, {NO_DATE})"


def _edges_sql(model: Model, scope: str) -> str:
    edge_schemata = sorted(s.name for s in model.schemata.values() if s.edge)
    events = sorted(
        s.name
        for s in model.schemata.values()
        if any(model.get(e) is not None and s.is_a(e) for e in EVENTS)
    )
    listed = ", ".join(quote_str(n) for n in edge_schemata)
    instant = ", ".join(quote_str(n) for n in events) or "NULL"
    return f"""
        SELECT coalesce(cs.canonical_id, e.source) AS source,
               coalesce(ct.canonical_id, e.target) AS target, e.kind, e.schema, e.prop,
               f.dataset, CASE WHEN e.kind = 'edge' THEN e.entity_id END AS entity_id,
               e.start_date,
               CASE WHEN e.end_date IS NULL AND e.schema IN ({instant}) THEN e.start_date
                    ELSE e.end_date END AS end_date
        FROM edges e JOIN sources f USING (source_id)
        LEFT JOIN resolve_canonical cs ON cs.entity_id = e.source
        LEFT JOIN resolve_canonical ct ON ct.entity_id = e.target
        WHERE {scope} AND NOT (e.kind = 'property' AND e.schema IN ({listed or "NULL"}))
              AND coalesce(cs.canonical_id, e.source) <> coalesce(ct.canonical_id, e.target)"""


def build_graph(
    store: DuckDBStore,
    directory: Path,
    reader: Reader | None = None,
    progress: Progress | None = None,
) -> GraphData:
    """Write the link graph of what ``reader`` (the local operator by default) may see
    into ``directory``, column by column, and map it back."""
    reader = reader if reader is not None else Reader.system()
    session = store.session()
    try:
        session.con.execute("BEGIN TRANSACTION")  # one snapshot, whatever imports commit
        _build(session, GraphWriter(directory), reader, progress)
    finally:
        session.con.execute("ROLLBACK")
        session.con.close()
    graph = GraphData.load(directory)
    if not graph.ordered():
        raise StoreError("the engine did not sort node ids by their bytes")
    return graph


def _build(
    store: DuckDBStore, writer: GraphWriter, reader: Reader, progress: Progress | None
) -> None:
    model = store.model
    con = store.con
    scope = store.scope_sql(reader)
    generation = store.generation()
    schemata = sorted(model.schemata)
    value_kinds = sorted({kind for _, _, kind in shared_properties(model)})
    schemata += value_kinds
    props = sorted({p.name for s in model.schemata.values() for p in s.properties.values()})
    datasets = [
        str(r[0]) for r in con.execute("SELECT name FROM datasets ORDER BY name").fetchall()
    ]
    edges = _edges_sql(model, scope)
    steps = 5

    def step(done: int) -> None:
        if progress is not None:
            progress("building the link graph", done, steps)

    step(0)
    shared = values_table(shared_properties(model), "schema, prop, kind")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __graph_values AS
        WITH v AS (
            SELECT DISTINCT coalesce(rc.canonical_id, s.entity_id) AS entity_id,
                   p.kind || ':' || s.value AS vid, f.dataset, s.schema, s.prop
            FROM statements s JOIN {shared} p ON p.schema = s.schema AND p.prop = s.prop
            JOIN sources f USING (source_id)
            LEFT JOIN resolve_canonical rc ON rc.entity_id = s.entity_id WHERE {scope}),
        held AS (SELECT vid FROM v GROUP BY vid HAVING count(DISTINCT entity_id) >= 2)
        SELECT entity_id, vid, dataset, min(schema) AS schema, min(prop) AS prop
        FROM v SEMI JOIN held USING (vid) GROUP BY entity_id, vid, dataset""")
    step(1)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __graph_nodes AS
        WITH e AS ({edges}),
        ids AS (SELECT source AS id, 0 AS kind FROM e UNION ALL SELECT target, 0 FROM e
                UNION ALL SELECT entity_id, 0 FROM __graph_values
                UNION ALL SELECT vid, 1 FROM __graph_values)
        SELECT id, max(kind)::TINYINT AS kind,
               (row_number() OVER (ORDER BY id) - 1)::INTEGER AS ix
        FROM ids WHERE id IS NOT NULL GROUP BY id""")
    step(2)
    try:
        node_rows = con.execute("SELECT id, kind FROM __graph_nodes ORDER BY ix")
        n = _stream(node_rows, writer, {"id": ("node_ids", str), "kind": ("node_kind", np.int8)})
        _labels(store, con, scope, (schemata, datasets), n, writer)
        step(3)
        edge_rows = con.execute(f"""
            WITH e AS ({edges})
            SELECT a.ix AS src, b.ix AS dst,
                   CASE e.kind WHEN 'edge' THEN 0 ELSE 1 END::TINYINT AS kind,
                   coalesce(sc.code, -1)::SMALLINT AS schema,
                   coalesce(pc.code, -1)::SMALLINT AS prop,
                   {_days("e.start_date", False)} AS start_day,
                   {_days("e.end_date", True)} AS end_day,
                   coalesce(dc.code, -1)::SMALLINT AS dataset, e.entity_id
            FROM e JOIN __graph_nodes a ON a.id = e.source JOIN __graph_nodes b ON b.id = e.target
            LEFT JOIN {_codes(schemata, "sc")} ON sc.name = e.schema
            LEFT JOIN {_codes(props, "pc")} ON pc.name = e.prop
            LEFT JOIN {_codes(datasets, "dc")} ON dc.name = e.dataset
            UNION ALL
            SELECT a.ix, b.ix, {EDGE_KINDS.index("shared")}::TINYINT,
                   coalesce(sc.code, -1)::SMALLINT, coalesce(pc.code, -1)::SMALLINT,
                   {NO_DATE}, {NO_DATE}, coalesce(dc.code, -1)::SMALLINT, NULL
            FROM __graph_values v JOIN __graph_nodes a ON a.id = v.entity_id
            JOIN __graph_nodes b ON b.id = v.vid
            LEFT JOIN {_codes(schemata, "sc")} ON sc.name = v.schema
            LEFT JOIN {_codes(props, "pc")} ON pc.name = v.prop
            LEFT JOIN {_codes(datasets, "dc")} ON dc.name = v.dataset""")
        _stream(edge_rows, writer, _EDGE_COLUMNS)
        step(4)
    finally:
        for table in _TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    meta = {
        "generation": generation,
        "resolution": resolution_version(store),
        "nodes": n,
        "schemata": schemata,
        "props": props,
        "datasets": datasets,
    }
    writer.finish(meta)
    step(5)


def _stream(
    result: duckdb.DuckDBPyConnection, writer: GraphWriter, columns: dict[str, tuple[str, Any]]
) -> int:
    """Write a large result to the graph's files batch by batch (``columns``: result
    column -> (file, numpy type, or ``str`` for strings)); returns its row count."""
    sinks: dict[str, Any] = {}
    for column, (name, kind) in columns.items():
        sinks[column] = writer.strings(name) if kind is str else writer.numbers(name, kind)
    rows = 0
    for batch in result.to_arrow_reader(BATCH_ROWS):
        for column, sink in sinks.items():
            values = batch.column(column)
            sink.append(values if columns[column][1] is str else values.to_numpy())
        rows += batch.num_rows
    for sink in sinks.values():
        sink.close()
    return rows


def _numpy(table: pa.Table, name: str, dtype: type[T]) -> npt.NDArray[T]:
    """A numeric column of an Arrow table as a numpy array of ``dtype``."""
    column = table.column(name)
    if column.num_chunks == 0:
        return np.zeros(0, dtype=dtype)
    return np.ascontiguousarray(column.to_numpy(), dtype=dtype)


def _common(store: DuckDBStore, combo: tuple[str, ...]) -> str:
    """The schema an entity described with all of ``combo`` has (the first when they
    share none, as a Person and a Company with the same id)."""
    try:
        return store.common_schema(set(combo))
    except InvalidData:
        return combo[0]


def _labels(
    store: DuckDBStore,
    con: duckdb.DuckDBPyConnection,
    scope: str,
    names: tuple[list[str], list[str]],
    n: int,
    writer: GraphWriter,
) -> None:
    """Write each node's schema over all datasets, and its schema and caption per dataset
    describing it (value nodes: one row for any reader, the value)."""
    model = store.model
    schemata, datasets = names
    captions = [
        (schema.name, prop, str(rank))
        for schema in model.schemata.values()
        for rank, prop in enumerate(schema.caption)
    ]
    caption_props = sorted({prop for _, prop, _ in captions} | {"id"})
    wanted = ", ".join(quote_str(p) for p in caption_props)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE __graph_labels AS
        WITH c AS {values_table(captions, "schema, prop, rank")},
        s AS (SELECT n.ix, f.dataset, st.schema, st.value, c.rank::INTEGER AS rank
              FROM statements st JOIN sources f USING (source_id)
              LEFT JOIN resolve_canonical rc ON rc.entity_id = st.entity_id
              JOIN __graph_nodes n ON n.id = coalesce(rc.canonical_id, st.entity_id)
              LEFT JOIN c ON c.schema = st.schema AND c.prop = st.prop
              WHERE {scope} AND st.prop IN ({wanted}) AND n.kind = 0
                AND (st.prop = 'id' OR c.rank IS NOT NULL))
        SELECT ix, dataset, list_sort(list(DISTINCT schema)) AS combo,
               (min({{'r': rank, 'v': value}}) FILTER (WHERE rank IS NOT NULL)).v AS caption
        FROM s GROUP BY ix, dataset""")
    combos = {
        tuple(row[0])
        for row in con.execute(
            "SELECT DISTINCT combo FROM __graph_labels UNION SELECT DISTINCT c FROM "
            "(SELECT list_sort(list_distinct(flatten(list(combo)))) AS c "
            "FROM __graph_labels GROUP BY ix)"
        ).fetchall()
    }
    common = [(",".join(c), _common(store, c)) for c in sorted(combos)]
    known = values_table(common, "combo, schema")
    rows = con.execute(f"""
        WITH k AS (SELECT k.combo, sc.code FROM {known} k
                   JOIN {_codes(schemata, "sc")} ON sc.name = k.schema)
        SELECT l.ix AS node, coalesce(dc.code, -1)::SMALLINT AS dataset,
               coalesce(k.code, -1)::SMALLINT AS schema, l.caption
        FROM __graph_labels l LEFT JOIN k ON k.combo = array_to_string(l.combo, ',')
        LEFT JOIN {_codes(datasets, "dc")} ON dc.name = l.dataset
        UNION ALL
        SELECT n.ix, {ANY_DATASET}::SMALLINT, coalesce(sc.code, -1)::SMALLINT,
               substr(n.id, strpos(n.id, ':') + 1)
        FROM __graph_nodes n LEFT JOIN {_codes(schemata, "sc")}
             ON sc.name = substr(n.id, 1, strpos(n.id, ':') - 1)
        WHERE n.kind = 1
        ORDER BY node, dataset""")
    _stream(rows, writer, _LABEL_COLUMNS)
    overall = con.execute(f"""
        WITH g AS (SELECT ix, array_to_string(list_sort(list_distinct(flatten(list(combo)))),
                          ',') AS combo FROM __graph_labels GROUP BY ix),
        k AS (SELECT k.combo, sc.code FROM {known} k
              JOIN {_codes(schemata, "sc")} ON sc.name = k.schema)
        SELECT g.ix, k.code FROM g JOIN k USING (combo)
        UNION ALL
        SELECT n.ix, sc.code FROM __graph_nodes n JOIN {_codes(schemata, "sc")}
             ON sc.name = substr(n.id, 1, strpos(n.id, ':') - 1) WHERE n.kind = 1
        """).to_arrow_table()
    node_schema = np.full(n, -1, dtype=np.int16)
    node_schema[_numpy(overall, "ix", np.int64)] = _numpy(overall, "code", np.int16)
    writer.array("node_schema", node_schema)
