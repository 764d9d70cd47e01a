"""Write entities, statements and the link graph out of the DuckDB store.

- ``ftm``: FollowTheMoney entity JSON lines, as Aleph and OpenSanctions read them;
- ``csv``: one statement per line with its full provenance;
- ``gexf``: the edge table as a GEXF 1.3 graph (Gephi), nodes labelled by caption.

Records merged by entity resolution are written as their canonical entity: one FtM entity
(its ``referents`` name the records), one graph node; the CSV keeps one line per statement
and says which entity each record is now part of (``canonical_id``).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from followthemoney.model import Model

from recoupe.sql import quote_str, values_table


def write_ftm(con: duckdb.DuckDBPyConnection, entities_sql: str, out: Path) -> int:
    row = con.execute(f"COPY ({entities_sql}) TO {quote_str(str(out))} (FORMAT json)").fetchone()
    return int(row[0]) if row else 0


def write_statements_csv(con: duckdb.DuckDBPyConnection, scope: str, out: Path) -> int:
    sql = (
        "SELECT sp.entity_id, coalesce(rc.canonical_id, sp.entity_id) AS canonical_id, schema, "
        "prop, value, original_value, dataset, run_id, last_run_id, source_file, source_row, "
        "strftime(first_seen, '%Y-%m-%dT%H:%M:%S') AS first_seen, "
        "strftime(last_seen, '%Y-%m-%dT%H:%M:%S') AS last_seen "
        "FROM statement_provenance sp LEFT JOIN resolve_canonical rc USING (entity_id) "
        f"WHERE {scope} ORDER BY dataset, sp.entity_id, prop, value"
    )
    row = con.execute(f"COPY ({sql}) TO {quote_str(str(out))} (FORMAT csv, HEADER true)")
    written = row.fetchone()
    return int(written[0]) if written else 0


def _xml(expr: str) -> str:
    """SQL escaping an expression's text for XML attributes."""
    return (
        f"replace(replace(replace(replace({expr}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), "
        "'\"', '&quot;')"
    )


def write_gexf(con: duckdb.DuckDBPyConnection, model: Model, scope: str, out: Path) -> int:
    captions = [
        (schema.name, prop, str(rank))
        for schema in model.schemata.values()
        for rank, prop in enumerate(schema.caption or ["name"])
    ]
    cap = values_table(captions, "schema, prop, rank")
    # merged records are their canonical entity: one node, its links
    canon = "coalesce((SELECT canonical_id FROM resolve_canonical WHERE entity_id = {0}), {0})"
    linked = f"""(SELECT {canon.format("source")} AS source, {canon.format("target")} AS target,
                  entity_id, prop, schema FROM edges WHERE {scope})"""
    nodes_sql = f"""
        WITH l AS {linked},
        e AS (SELECT source AS id FROM l UNION SELECT target FROM l),
        s AS (SELECT coalesce(rc.canonical_id, st.entity_id) AS entity_id, st.schema, st.prop,
                     st.value FROM statements st
              LEFT JOIN resolve_canonical rc ON rc.entity_id = st.entity_id WHERE {scope}),
        c AS (SELECT s.entity_id, arg_min(s.value, c.rank::INT) AS label, any_value(s.schema) sc
              FROM s JOIN {cap} c ON c.schema = s.schema AND c.prop = s.prop
              GROUP BY s.entity_id),
        k AS (SELECT entity_id, any_value(schema) AS sc FROM s
              WHERE prop = 'id' GROUP BY entity_id)
        SELECT '    <node id="' || {_xml("e.id")} || '" label="' ||
               {_xml("coalesce(c.label, e.id)")} || '"><attvalues><attvalue for="schema" value="'
               || {_xml("coalesce(c.sc, k.sc, '')")} || '"/></attvalues></node>'
        FROM e LEFT JOIN c ON c.entity_id = e.id LEFT JOIN k ON k.entity_id = e.id ORDER BY e.id
    """
    edges_sql = f"""
        SELECT '    <edge id="' || row_number() OVER (ORDER BY source, target, entity_id) ||
               '" source="' || {_xml("source")} || '" target="' || {_xml("target")} ||
               '" label="' || {_xml("coalesce(prop, schema)")} || '"/>'
        FROM {linked} WHERE source <> target ORDER BY source, target, entity_id
    """
    n = 0
    with out.open("w", encoding="utf-8") as fh:
        fh.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<gexf xmlns="http://gexf.net/1.3" version="1.3">\n'
            "  <meta><creator>Recoupe</creator></meta>\n"
            '  <graph defaultedgetype="directed">\n'
            '  <attributes class="node"><attribute id="schema" title="schema" type="string"/>'
            "</attributes>\n  <nodes>\n"
        )
        for sql, closing in ((nodes_sql, "  </nodes>\n  <edges>\n"), (edges_sql, "  </edges>\n")):
            result = con.execute(sql)
            while batch := result.fetchmany(50_000):
                fh.write("\n".join(row[0] for row in batch))
                fh.write("\n")
                n += len(batch)
            fh.write(closing)
        fh.write("  </graph>\n</gexf>\n")
    return n
