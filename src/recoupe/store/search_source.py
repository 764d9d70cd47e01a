"""The rows the search index is built from, computed in SQL from statements.

One row per (entity, dataset), and for records without names (calls, payments...) the
whole index document as JSON, made by the engine: only names need Python (their keys).
Access is decided per dataset, so a record never carries
into the index a value from a dataset the reader of a search result may not see. Values are
grouped by what they are for search: names, identifiers (in their indexed normal form),
countries, dates and other text.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import pyarrow as pa
from followthemoney.model import Model

from recoupe.search.keys import ID_TYPES, identifier_sql
from recoupe.sql import quote_str, values_table
from recoupe.store.duckdb import DuckDBStore

BATCH_ROWS = 20_000
PART_STATEMENTS = 4_000_000


def _categories(model: Model) -> list[tuple[str, str, str, str, str]]:
    """(schema, prop, category, type, caption rank) for every searchable property."""
    rows: list[tuple[str, str, str, str, str]] = []
    for schema in model.schemata.values():
        captions = list(schema.caption)
        for prop in schema.properties.values():
            kind = prop.type.name
            if kind == "entity":
                continue
            if kind == "name":
                category = "name"
            elif kind in ID_TYPES:
                category = "id"
            elif kind == "country":
                category = "country"
            elif kind == "date":
                category = "date"
            else:
                category = "text"
            rank = captions.index(prop.name) if prop.name in captions else 99
            rows.append((schema.name, prop.name, category, kind, str(rank)))
    return sorted(rows)


def _normalised_id() -> str:
    cases = " ".join(
        f"WHEN c.type = {quote_str(t)} THEN {identifier_sql(t, 's.value')}" for t in ID_TYPES
    )
    return f"CASE {cases} END"


def document_batches(
    store: DuckDBStore, since: int | None = None, ids: Sequence[str] = ()
) -> Iterator[pa.RecordBatch]:
    """Rows for the index: all entities, or those with statements newer than ``since``
    and those of ``ids`` (records whose merged entity changed).

    ``since`` is a store generation: entities with a statement first or last seen in a
    source added after it are returned whole (all their statements, every dataset).
    """
    con = store.con
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __search_props AS "
        "SELECT schema, prop, cat, type, rnk::INTEGER AS rnk FROM "
        + values_table(_categories(store.model), "schema, prop, cat, type, rnk")
    )
    touched = ""
    if since is not None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __touched AS SELECT DISTINCT entity_id FROM statements "
            "WHERE source_id > ? OR last_source_id > ?",
            [since, since],
        )
        if ids:
            con.execute(
                "INSERT INTO __touched SELECT unnest(?::VARCHAR[]) EXCEPT "
                "SELECT entity_id FROM __touched",
                [list(ids)],
            )
        # a merged entity is one set of documents: index all its records again
        con.execute(
            "INSERT INTO __touched SELECT m.entity_id FROM resolve_canonical c "
            "JOIN resolve_canonical m USING (canonical_id) "
            "WHERE c.entity_id IN (SELECT entity_id FROM __touched) "
            "EXCEPT SELECT entity_id FROM __touched"
        )
        touched = "JOIN __touched t USING (entity_id)"
    for low, high in _id_ranges(store):
        yield from _documents(store, touched, low, high)


def _id_ranges(store: DuckDBStore) -> list[tuple[str | None, str | None]]:
    """Ranges of entity ids holding about ``PART_STATEMENTS`` statements each.

    Grouping a hundred million statements at once would not fit the engine's memory;
    statements are stored in entity order, so each range reads only its own blocks.
    """
    row = store.con.execute("SELECT count(*) FROM statements").fetchone()
    parts = max(1, (int(row[0]) if row else 0) // PART_STATEMENTS)
    if parts == 1:
        return [(None, None)]
    cuts = [i / parts for i in range(1, parts)]
    found = store.con.execute(
        "SELECT quantile_disc(entity_id, ?) FROM "
        "(SELECT entity_id FROM statements USING SAMPLE 200000 ROWS)",
        [cuts],
    ).fetchone()
    bounds = sorted(set(found[0])) if found and found[0] else []
    edges: list[str | None] = [None, *bounds, None]
    return list(itertools.pairwise(edges))


def _documents(
    store: DuckDBStore, touched: str, low: str | None, high: str | None
) -> Iterator[pa.RecordBatch]:
    where = []
    params: list[str] = []
    key = "coalesce(rc.canonical_id, st.entity_id)"
    if low is not None:
        where.append(f"{key} >= ?")
        params.append(low)
    if high is not None:
        where.append(f"{key} < ?")
        params.append(high)
    within = ("WHERE " + " AND ".join(where)) if where else ""
    result = store.con.execute(
        f"""
        WITH g AS (WITH s AS (SELECT {key} AS entity_id, st.schema, st.prop, st.value,
                          f.dataset
                   FROM statements st {touched} JOIN sources f USING (source_id)
                   LEFT JOIN resolve_canonical rc ON rc.entity_id = st.entity_id {within}),
        c AS (SELECT s.*, c.cat, c.type, c.rnk,
                     CASE WHEN c.cat = 'id' THEN {_normalised_id()} END AS norm
              FROM s LEFT JOIN __search_props c ON c.schema = s.schema AND c.prop = s.prop)
        SELECT entity_id AS id, dataset,
               list(DISTINCT schema ORDER BY schema) AS schemata,
               arg_min(value, rnk) FILTER (WHERE rnk < 99) AS caption,
               coalesce(list(DISTINCT value) FILTER (WHERE cat = 'name'), []) AS names,
               coalesce(list(DISTINCT norm) FILTER (WHERE cat = 'id'), []) AS ids,
               coalesce(list(DISTINCT value) FILTER (WHERE cat = 'country'), []) AS countries,
               coalesce(list(DISTINCT value) FILTER (WHERE cat = 'date'), []) AS dates,
               coalesce(list(DISTINCT value) FILTER (WHERE cat IN ('text', 'id')), [])
                   AS texts
        FROM c GROUP BY entity_id, dataset)
        SELECT g.*, count(*) OVER (PARTITION BY id) > 1 AS shared,
            CASE WHEN len(names) = 0 AND len(schemata) = 1 THEN to_json({{
            'id': id, 'dataset': dataset, 'schema': schemata[1],
            'shared': CASE WHEN count(*) OVER (PARTITION BY id) > 1 THEN ['1'] ELSE [] END,
            'caption': CASE WHEN caption IS NULL THEN [] ELSE [caption] END,
            'ids': ids, 'countries': countries, 'text': texts,
            'dates': list_filter(list_transform(dates, d -> strftime(try_cast(
                CASE len(d) WHEN 4 THEN d || '-01-01' WHEN 7 THEN d || '-01' ELSE left(d, 19)
                END AS TIMESTAMP), '%Y-%m-%dT%H:%M:%SZ')), x -> x IS NOT NULL)
        }})::VARCHAR END AS json
        FROM g""",
        params,
    )
    yield from result.to_arrow_reader(BATCH_ROWS)
