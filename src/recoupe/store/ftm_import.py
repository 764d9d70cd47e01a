"""Read FollowTheMoney entity JSON lines (Aleph, OpenAleph, OpenSanctions exports).

Values are taken as they are: FtM exports are already cleaned, and re-cleaning could
change what the exporting system said. Each line is checked: invalid JSON, a missing id,
an unknown schema reject the line; a property the schema does not have, or a value that
is not a string, is dropped with its reason.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from followthemoney.model import Model

from recoupe.errors import SourceError
from recoupe.sources.readers import LoadedSource, check_utf8
from recoupe.sql import quote_str, values_table


def load_ftm(con: duckdb.DuckDBPyConnection, model: Model, path: Path, table: str) -> LoadedSource:
    """Create ``{table}`` plus ``__rejects``, ``__dropped`` and ``__values`` tables."""
    if not path.is_file():
        raise SourceError("FtM entity file not found", path=str(path))
    check_utf8(path)
    props = [
        (schema.name, prop.name, prop.type.name)
        for schema in model.schemata.values()
        for prop in schema.properties.values()
        if not prop.stub
    ]
    schemata = [(s.name,) for s in model.schemata.values() if not s.abstract]
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT i AS __row, l AS line, "
            "json_valid(l) AS ok FROM (SELECT unnest(lines) AS l, "
            "generate_subscripts(lines, 1) AS i FROM (SELECT string_split(replace(content, "
            f"chr(13), ''), chr(10)) AS lines FROM read_text({quote_str(str(path))}))) "
            "WHERE trim(l) <> ''"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table}__parsed AS SELECT __row, "
            "line ->> '$.id' AS id, line ->> '$.schema' AS schema, "
            "try_cast(json_extract(line, '$.properties') AS MAP(VARCHAR, VARCHAR[])) AS props, "
            "json_type(line) AS jt, json_type(line, '$.properties') AS pt "
            f"FROM {table} WHERE ok"
        )
    except duckdb.Error as exc:
        raise SourceError(f"cannot read: {str(exc).splitlines()[0]}", path=str(path)) from exc
    known = values_table(schemata, "name")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}__rejects AS "
        f"SELECT __row, 'not valid JSON' AS reason FROM {table} WHERE NOT ok "
        "UNION ALL SELECT __row, CASE WHEN jt <> 'OBJECT' THEN 'a line must be a JSON object' "
        "WHEN id IS NULL OR trim(id) = '' THEN 'no \"id\"' "
        "WHEN schema IS NULL THEN 'no \"schema\"' "
        "WHEN schema NOT IN (SELECT name FROM " + known + ") THEN "
        "'unknown or abstract schema ' || to_json(schema)::VARCHAR "
        "WHEN pt IS NOT NULL AND pt <> 'OBJECT' THEN '\"properties\" must be an object' END "
        f"FROM {table}__parsed WHERE jt <> 'OBJECT' OR id IS NULL OR trim(id) = '' "
        "OR schema IS NULL OR schema NOT IN (SELECT name FROM " + known + ") "
        "OR (pt IS NOT NULL AND pt <> 'OBJECT')"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}__entries AS SELECT p.__row, p.id, p.schema, "
        f"unnest(map_entries(coalesce(p.props, MAP {{}}))) AS e FROM {table}__parsed p "
        f"ANTI JOIN {table}__rejects r ON r.__row = p.__row"
    )
    known_props = values_table(props, "schema, prop, prop_type")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}__dropped AS "
        f"SELECT __row, e.key AS prop, coalesce(to_json(e.value)::VARCHAR, 'null') AS raw, "
        "CASE WHEN e.value IS NULL THEN 'values must be a list of strings' ELSE "
        "'schema ' || schema || ' has no property ' || to_json(e.key)::VARCHAR END AS reason "
        f"FROM {table}__entries x WHERE e.value IS NULL OR NOT EXISTS (SELECT 1 FROM "
        f"{known_props} k WHERE k.schema = x.schema AND k.prop = x.e.key)"
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {table}__values AS "
        f"SELECT __row, id AS entity_id, schema, 'id' AS prop, 'id' AS prop_type, id AS value "
        f"FROM {table}__parsed p ANTI JOIN {table}__rejects r ON r.__row = p.__row "
        "UNION ALL SELECT x.__row, x.id, x.schema, k.prop, k.prop_type, v.value "
        f"FROM {table}__entries x JOIN {known_props} k ON k.schema = x.schema "
        "AND k.prop = x.e.key, LATERAL (SELECT unnest(x.e.value) AS value) v "
        "WHERE v.value IS NOT NULL AND v.value <> ''"
    )
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    con.execute(f"DROP TABLE {table}__parsed")
    con.execute(f"DROP TABLE {table}__entries")
    con.execute(f"ALTER TABLE {table} RENAME COLUMN line TO record")
    return LoadedSource(table, str(path), int(rows[0]) if rows else 0, ("record",), ())
