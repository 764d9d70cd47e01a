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

from recoupe.sql import quote_str, values_table


def derive_edges_sql(model: Model, scope: str) -> str:
    """``SELECT`` producing rows of the ``edges`` table for statements matching ``scope``."""
    endpoints: list[tuple[str, str, str]] = []
    temporal: list[tuple[str, str, str]] = []
    links: list[tuple[str, str]] = []
    for schema in sorted(model.schemata.values(), key=lambda s: s.name):
        if schema.edge and schema.edge_source and schema.edge_target:
            endpoints.append((schema.name, schema.edge_source, schema.edge_target))
        temporal.extend((schema.name, p, "start") for p in schema.temporal_start)
        temporal.extend((schema.name, p, "end") for p in schema.temporal_end)
        links.extend(
            (schema.name, p.name)
            for p in schema.properties.values()
            if p.type.name == "entity" and not p.stub
        )
    ends = {(s, sp) for s, sp, _ in endpoints} | {(s, tp) for s, _, tp in endpoints}
    prop_links = sorted(set(links) - ends)
    names = sorted({p for _, p in links} | {p for _, p, _ in temporal})
    wanted = ", ".join(quote_str(n) for n in names)
    return f"""
    WITH s AS (SELECT st.entity_id, st.schema, st.prop, st.value, source_id, f.dataset
               FROM statements st JOIN sources f USING (source_id)
               WHERE {scope} AND st.prop IN ({wanted})),
    es AS {values_table(endpoints, "schema, sp, tp")},
    pl AS {values_table(prop_links, "schema, prop")},
    tp AS {values_table(temporal, "schema, prop, role")},
    d AS (SELECT s.entity_id, s.dataset,
                 min(s.value) FILTER (WHERE tp.role = 'start') AS start_date,
                 max(s.value) FILTER (WHERE tp.role = 'end') AS end_date
          FROM s JOIN tp ON tp.schema = s.schema AND tp.prop = s.prop
          GROUP BY s.entity_id, s.dataset),
    src AS (SELECT s.* FROM s JOIN es ON es.schema = s.schema AND es.sp = s.prop),
    tgt AS (SELECT s.* FROM s JOIN es ON es.schema = s.schema AND es.tp = s.prop),
    r AS (
        SELECT src.value AS source, tgt.value AS target, src.entity_id, 'edge' AS kind,
               src.schema, NULL::VARCHAR AS prop, src.dataset, src.source_id
        FROM src JOIN tgt ON tgt.entity_id = src.entity_id AND tgt.schema = src.schema
                          AND tgt.dataset = src.dataset
        UNION ALL
        SELECT s.entity_id, s.value, s.entity_id, 'property', s.schema, s.prop, s.dataset,
               s.source_id
        FROM s JOIN pl ON pl.schema = s.schema AND pl.prop = s.prop
    )
    SELECT r.source, r.target, r.entity_id, r.kind, r.schema, r.prop, d.start_date,
           d.end_date, r.source_id
    FROM r LEFT JOIN d ON d.entity_id = r.entity_id AND d.dataset = r.dataset
    """
