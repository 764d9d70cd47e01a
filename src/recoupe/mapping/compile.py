"""Compile a mapping spec into SQL that an engine runs in columns.

``compile_query(spec, model, dialect)`` turns one :class:`QuerySpec` into a
:class:`QueryPlan`: plain SQL strings over a source table that has one ``VARCHAR``
column per source column and a ``__row`` column (the 1-based record number). No Python
runs per row: an engine executes

1. ``plan.chunk_sql``: the rows of one chunk with every entity id computed once;
2. ``plan.stage_sql``: one row per candidate value ``(__row, ent, fam, entity_id, schema,
   prop, prop_type, cleaner, raw, required)`` with ``raw`` still uncleaned;
3. cleaning of the distinct ``(cleaner, raw)`` pairs (``plan.fast_sql`` marks the values
   that are already clean), then the required checks.

Entity ids are FollowTheMoney's: SHA-1 of the key literal then the sorted, non-empty key
values, so an entity mapped here has the id ``ftm map`` gives it. Only the DuckDB dialect
exists today; the plan is plain data so another engine (Spark SQL) can get a dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from followthemoney.model import Model
from followthemoney.schema import Schema

from recoupe.errors import UnsupportedOperation
from recoupe.mapping.clean import Cleaner, cleaner_for, fast_path
from recoupe.mapping.spec import TEMPLATE_REF, EntitySpec, PropertySpec, QuerySpec
from recoupe.sql import quote_ident, quote_str

DIALECTS = ("duckdb",)
ID_PROP = "id"
# The characters Python's str.strip() removes that matter in real data.
_WS = "' \t\n\r\x0b\x0c\u00a0'"


def strip(expr: str) -> str:
    """``expr`` stripped of white space, ``NULL`` when empty (most values skip the trim)."""
    edges = " AND ".join(
        f"ascii({e}) > 32 AND ascii({e}) <> 160" for e in (expr, f"right({expr}, 1)")
    )
    return (
        f"CASE WHEN {expr} = '' THEN NULL WHEN {edges} THEN {expr} "
        f"ELSE nullif(trim({expr}, {_WS}), '') END"
    )


def raw_column(name: str) -> str:
    """A source column as FtM reads it: stripped, and ``NULL`` when empty."""
    return strip(quote_ident(name))


def _col(name: str) -> str:
    """A column of the chunk table, already stripped."""
    return quote_ident(name)


@dataclass(frozen=True)
class Slot:
    """One (entity, property) pair of a query: every staged value belongs to a slot."""

    slot: int
    ent: str
    fam: str
    schema: str
    prop: str
    prop_type: str
    cleaner: str | None
    required: bool
    multi: bool
    description: str
    role: str | None = None
    """``source``/``target`` of an edge schema, ``link`` (other entity property),
    ``start``/``end`` (temporal extent), or ``None``."""


@dataclass(frozen=True)
class QueryPlan:
    """What an engine runs for one query, with ``{src}``/``{chunk}`` table placeholders.

    ``stage_sql`` yields ``(__row, slot, entity_id, raw, fast)``: one row per candidate
    value, where ``fast`` says the raw value is already clean; ``slots`` describe the rest.
    """

    key: str
    columns: tuple[str, ...]
    chunk_sql: str
    stage_sql: str
    slots: tuple[Slot, ...]
    cleaners: tuple[Cleaner, ...]
    families: dict[str, str]
    multi_valued: frozenset[str]
    id_columns: dict[str, str]
    id_exprs: dict[str, str]
    key_descriptions: dict[str, str]
    edge_sql: dict[str, str]
    """Per entity: ``SELECT`` of its edges from ``{chunk}`` and ``{values}``; entities
    whose edges cannot be read row by row (multi-valued links) are absent."""

    @property
    def required(self) -> tuple[Slot, ...]:
        return tuple(s for s in self.slots if s.required)


def family_of(entity: EntitySpec) -> str:
    """Entities of one family may share ids (same key literal, or raw id columns)."""
    if entity.id_column is not None:
        return "id_column"
    return f"keys:{entity.key_literal or ''}"


def _key_expr(entity: EntitySpec, column: Callable[[str], str] = raw_column) -> str:
    """What the id is a function of: equal keys give equal ids (``NULL``: no id)."""
    if entity.id_column is not None:
        return column(entity.id_column)
    if len(entity.keys) == 1:
        return column(entity.keys[0])
    parts = ", ".join(column(k) for k in entity.keys)
    values = f"list_sort(list_filter([{parts}], x -> x IS NOT NULL))"
    return f"CASE WHEN len({values}) = 0 THEN NULL ELSE array_to_string({values}, '') END"


def _id_expr(entity: EntitySpec) -> str:
    """FtM's id: SHA-1 of the key literal and the sorted key values (over the chunk)."""
    key = _key_expr(entity, _col)
    if entity.id_column is not None:
        return key
    literal = quote_str(entity.key_literal or "")
    return f"CASE WHEN {key} IS NULL THEN NULL ELSE sha1({literal} || {key}) END"


def _describe_keys(entity: EntitySpec) -> str:
    if entity.id_column is not None:
        return f"{entity.name}: id_column {entity.id_column!r}"
    return f"{entity.name}: keys " + ", ".join(repr(k) for k in entity.keys)


def _value_expr(prop: PropertySpec) -> tuple[str, bool]:
    """SQL for one raw value per row, or an ``unnest`` of several; and whether several."""
    if prop.template is not None:
        pieces: list[str] = []
        pos = 0
        for match in TEMPLATE_REF.finditer(prop.template):
            if match.start() > pos:
                pieces.append(quote_str(prop.template[pos : match.start()]))
            pieces.append(f"coalesce({_col(match.group(1))}, '')")
            pos = match.end()
        if pos < len(prop.template):
            pieces.append(quote_str(prop.template[pos:]))
        joined = " || ".join(pieces) if pieces else "''"
        value = f"nullif(trim({joined}, {_WS}), '')"
        items, multi = f"[{value}]", False
    else:
        parts = [quote_str(v) for v in prop.literals] + [_col(c) for c in prop.columns]
        value = parts[0] if len(parts) == 1 else ""
        items, multi = f"[{', '.join(parts)}]", len(parts) > 1
        if prop.join is not None:
            filtered = f"list_filter({items}, x -> x IS NOT NULL)"
            value = f"nullif(array_to_string({filtered}, {quote_str(prop.join)}), '')"
            items, multi = f"[{value}]", False
    if prop.split is not None:
        sep = quote_str(prop.split)
        items = (
            f"flatten(list_transform(list_filter({items}, x -> x IS NOT NULL), "
            f"x -> list_transform(string_split(x, {sep}), y -> nullif(trim(y, {_WS}), ''))))"
        )
        multi = True
    if not multi:
        return value, False
    return f"list_distinct({items})", True


def compile_query(spec: QuerySpec, model: Model, dialect: str = "duckdb") -> QueryPlan:
    """Compile one query of a mapping into SQL for ``dialect``."""
    if dialect not in DIALECTS:
        raise UnsupportedOperation(f"no SQL dialect {dialect!r} (available: {DIALECTS})")
    ids = {e.name: f"__id_{i}" for i, e in enumerate(spec.entities)}
    columns = spec.refs
    select_cols = ", ".join(quote_ident(c) for c in columns)
    stripped = ", ".join(f"{raw_column(c)} AS {quote_ident(c)}" for c in columns)
    id_cols = ", ".join(f"{_id_expr(e)} AS {ids[e.name]}" for e in spec.entities)
    where = ["true"]
    for name, values in spec.filters:
        where.append(f"coalesce({_col(name)}, '') IN ({_in_list(values)})")
    for name, values in spec.filters_not:
        where.append(f"coalesce({_col(name)}, '') NOT IN ({_in_list(values)})")
    chunk_sql = (
        f"SELECT __row, {id_cols}{', ' if select_cols else ''}{select_cols} "
        f"FROM (SELECT __row{', ' if stripped else ''}{stripped} FROM {{src}} "
        f"WHERE __row >= $lo AND __row < $hi) WHERE {' AND '.join(where)}"
    )

    cleaners: dict[str, Cleaner] = {}
    slots: list[Slot] = []
    multi_valued: set[str] = set()
    selects: list[str] = []
    exprs: dict[int, str | None] = {}
    for entity in spec.entities:
        schema = model.get(entity.schema)
        assert schema is not None
        id_col = ids[entity.name]
        fam = family_of(entity)
        slots.append(
            Slot(len(slots), entity.name, fam, schema.name, ID_PROP, ID_PROP, None, False, False,
                 f"{entity.name}.id")
        )  # fmt: skip
        selects.append(
            f"SELECT __row, {slots[-1].slot}::SMALLINT AS slot, {id_col} AS entity_id, "
            f"{id_col} AS raw, true AS fast FROM {{chunk}} WHERE {id_col} IS NOT NULL"
        )
        for pspec in entity.properties:
            prop = schema.get(pspec.name)
            assert prop is not None
            cleaner = cleaner_for(prop, pspec.format, spec.countries)
            if pspec.entity is not None:
                raw, multi = ids[pspec.entity], False
            else:
                raw, multi = _value_expr(pspec)
                if multi:
                    # An empty list still stages one NULL when the value is required.
                    empty = "[NULL]" if pspec.required else "[]"
                    raw = f"unnest(CASE WHEN len({raw}) = 0 THEN {empty} ELSE {raw} END)"
            if multi:
                multi_valued.add(entity.name)
            slot = Slot(
                len(slots), entity.name, fam, schema.name, prop.name, prop.type.name,
                cleaner.id if cleaner is not None else None, pspec.required, multi,
                _describe(entity, pspec), _role(schema, prop.name, prop.type.name),
            )  # fmt: skip
            slots.append(slot)
            exprs[slot.slot] = None if multi else raw
            fast = "true"
            if cleaner is not None:
                cleaners[cleaner.id] = cleaner
                fast = fast_path(cleaner, "raw") or "false"
            keep = "true" if pspec.required else "raw IS NOT NULL"
            selects.append(
                f"SELECT __row, {slot.slot}::SMALLINT AS slot, entity_id, raw, "
                f"coalesce({fast}, false) AS fast FROM (SELECT __row, {id_col} AS entity_id, "
                f"{raw} AS raw FROM {{chunk}} WHERE {id_col} IS NOT NULL) WHERE {keep}"
            )
    edge_sql = {
        e.name: sql
        for e in spec.entities
        if (sql := _edges_sql(model, e, ids[e.name], [s for s in slots if s.ent == e.name], exprs))
    }
    return QueryPlan(
        key=spec.key,
        columns=columns,
        chunk_sql=chunk_sql,
        stage_sql=" UNION ALL ".join(selects),
        slots=tuple(slots),
        cleaners=tuple(cleaners.values()),
        families={e.name: family_of(e) for e in spec.entities},
        multi_valued=frozenset(multi_valued),
        id_columns=ids,
        id_exprs={e.name: _key_expr(e) for e in spec.entities},
        key_descriptions={e.name: _describe_keys(e) for e in spec.entities},
        edge_sql=edge_sql,
    )


def _edges_sql(
    model: Model, entity: EntitySpec, id_col: str, slots: list[Slot], exprs: dict[int, str | None]
) -> str | None:
    """The edges one entity mapping makes in a row, read from the chunk's columns.

    Returns ``""`` for an entity with no links, ``None`` when a link is multi-valued (its
    edges are derived from the statements instead).
    """
    links = [s for s in slots if s.role in ("source", "target", "link")]
    if not links:
        return ""
    if any(exprs[s.slot] is None for s in links):
        return None
    schema = model.get(entity.schema)
    assert schema is not None
    starts = [s.slot for s in slots if s.role == "start"]
    ends = [s.slot for s in slots if s.role == "end"]
    dates = "NULL::VARCHAR AS start_date, NULL::VARCHAR AS end_date"
    join = ""
    if starts or ends:
        wanted = ", ".join(str(n) for n in starts + ends)
        in_start = ", ".join(str(n) for n in starts) or "-1"
        in_end = ", ".join(str(n) for n in ends) or "-1"
        join = (
            f" LEFT JOIN (SELECT __row, min(value) FILTER (WHERE slot IN ({in_start})) AS s, "
            f"max(value) FILTER (WHERE slot IN ({in_end})) AS e FROM {{values}} "
            f"WHERE slot IN ({wanted}) GROUP BY __row) d ON d.__row = c.__row"
        )
        dates = "d.s AS start_date, d.e AS end_date"
    rows: list[str] = []
    by_role = {s.role: s for s in links if s.role in ("source", "target")}
    if "source" in by_role and "target" in by_role:
        src, tgt = exprs[by_role["source"].slot], exprs[by_role["target"].slot]
        rows.append(
            f"SELECT {src} AS source, {tgt} AS target, {id_col} AS entity_id, 'edge' AS kind, "
            f"{quote_str(schema.name)} AS schema, NULL::VARCHAR AS prop, __row FROM {{chunk}} "
            f"WHERE {id_col} IS NOT NULL AND {src} IS NOT NULL AND {tgt} IS NOT NULL"
        )
    for link in links:
        if link.role != "link":
            continue
        target = exprs[link.slot]
        rows.append(
            f"SELECT {id_col} AS source, {target} AS target, {id_col} AS entity_id, "
            f"'property' AS kind, {quote_str(schema.name)} AS schema, "
            f"{quote_str(link.prop)} AS prop, __row FROM {{chunk}} "
            f"WHERE {id_col} IS NOT NULL AND {target} IS NOT NULL"
        )
    if not rows:
        return None
    union = " UNION ALL ".join(rows)
    return (
        f"SELECT c.source, c.target, c.entity_id, c.kind, c.schema, c.prop, {dates} "
        f"FROM ({union}) c{join}"
    )


def _role(schema: Schema, prop: str, prop_type: str) -> str | None:
    if schema.edge and prop == schema.edge_source:
        return "source"
    if schema.edge and prop == schema.edge_target:
        return "target"
    if prop_type == "entity":
        return "link"
    if prop in schema.temporal_start:
        return "start"
    if prop in schema.temporal_end:
        return "end"
    return None


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join(quote_str(v) for v in values) if values else "NULL"


def _describe(entity: EntitySpec, prop: PropertySpec) -> str:
    if prop.entity is not None:
        source = f"entity {prop.entity!r}"
    elif prop.template is not None:
        source = f"template {prop.template!r}"
    elif prop.columns:
        source = "column " + ", ".join(repr(c) for c in prop.columns)
    else:
        source = "literal"
    return f"{entity.name}.{prop.name} ({source})"
