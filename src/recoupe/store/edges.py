"""The derived edge table: links between entities, computed from statements in SQL.

Two kinds of edge:

- ``edge``: an entity of an edge schema (Directorship, Payment, PhoneCall, ...) links its
  source property's entities to its target property's entities; ``entity_id`` is the edge
  entity itself;
- ``property``: any other entity-typed property links the entity holding it to the entity
  it names (a passport to its holder, a call to its cell tower).

Both carry the holding entity's dates (its schema's temporal start and end properties)
so graph and timeline queries can filter by time.
"""

from __future__ import annotations

from followthemoney.model import Model

from recoupe.mapping.compile import quote_str


def _values(rows: list[tuple[str, ...]], names: str) -> str:
    if not rows:
        width = names.count(",") + 1
        nulls = ", ".join(["NULL::VARCHAR"] * width)
        return f"(SELECT * FROM (VALUES ({nulls})) v({names}) WHERE false)"
    body = ", ".join("(" + ", ".join(quote_str(x) for x in row) + ")" for row in rows)
    return f"(SELECT * FROM (VALUES {body}) v({names}))"


def derive_edges_sql(model: Model, scope: str) -> str:
    """``SELECT`` producing rows of the ``edges`` table for statements matching ``scope``."""
    endpoints: list[tuple[str, str, str]] = []
    temporal: list[tuple[str, str, str]] = []
    for schema in sorted(model.schemata.values(), key=lambda s: s.name):
        if schema.edge and schema.edge_source and schema.edge_target:
            endpoints.append((schema.name, schema.edge_source, schema.edge_target))
        temporal.extend((schema.name, p, "start") for p in schema.temporal_start)
        temporal.extend((schema.name, p, "end") for p in schema.temporal_end)
    ends = [(s, sp) for s, sp, _ in endpoints] + [(s, tp) for s, _, tp in endpoints]
    return f"""
    WITH s AS (SELECT entity_id, schema, prop, prop_type, value, dataset, run_id
               FROM statements WHERE {scope}),
    es AS {_values(endpoints, "schema, sp, tp")},
    ep AS {_values(ends, "schema, prop")},
    tp AS {_values(temporal, "schema, prop, role")},
    d AS (SELECT s.entity_id, s.dataset,
                 min(s.value) FILTER (WHERE tp.role = 'start') AS start_date,
                 max(s.value) FILTER (WHERE tp.role = 'end') AS end_date
          FROM s JOIN tp ON tp.schema = s.schema AND tp.prop = s.prop
          GROUP BY s.entity_id, s.dataset),
    src AS (SELECT s.* FROM s JOIN es ON es.schema = s.schema AND es.sp = s.prop),
    tgt AS (SELECT s.* FROM s JOIN es ON es.schema = s.schema AND es.tp = s.prop),
    r AS (
        SELECT src.value AS source, tgt.value AS target, src.entity_id, 'edge' AS kind,
               src.schema, NULL::VARCHAR AS prop, src.dataset, src.run_id
        FROM src JOIN tgt ON tgt.entity_id = src.entity_id AND tgt.schema = src.schema
                          AND tgt.dataset = src.dataset
        UNION ALL
        SELECT s.entity_id, s.value, s.entity_id, 'property', s.schema, s.prop, s.dataset,
               s.run_id
        FROM s ANTI JOIN ep ON ep.schema = s.schema AND ep.prop = s.prop
        WHERE s.prop_type = 'entity'
    )
    SELECT r.source, r.target, r.entity_id, r.kind, r.schema, r.prop, d.start_date,
           d.end_date, r.dataset, r.run_id
    FROM r LEFT JOIN d ON d.entity_id = r.entity_id AND d.dataset = r.dataset
    """
