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

from dataclasses import dataclass

from followthemoney.model import Model

from recoupe.errors import UnsupportedOperation
from recoupe.mapping.clean import Cleaner, cleaner_for, fast_path
from recoupe.mapping.spec import TEMPLATE_REF, EntitySpec, PropertySpec, QuerySpec

DIALECTS = ("duckdb",)
ID_PROP = "id"
# The characters Python's str.strip() removes that matter in real data.
_WS = "' \t\n\r\x0b\x0c\u00a0'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def raw_column(name: str) -> str:
    """A source column as FtM reads it: stripped, and ``NULL`` when empty."""
    return f"nullif(trim({quote_ident(name)}, {_WS}), '')"


@dataclass(frozen=True)
class RequiredCheck:
    ent: str
    prop: str
    multi: bool
    description: str


@dataclass(frozen=True)
class QueryPlan:
    """What an engine runs for one query, with ``{src}``/``{chunk}`` table placeholders."""

    key: str
    columns: tuple[str, ...]
    chunk_sql: str
    stage_sql: str
    fast_sql: str
    cleaners: tuple[Cleaner, ...]
    required: tuple[RequiredCheck, ...]
    families: dict[str, str]
    multi_valued: frozenset[str]
    id_columns: dict[str, str]
    id_exprs: dict[str, str]
    key_descriptions: dict[str, str]


def family_of(entity: EntitySpec) -> str:
    """Entities of one family may share ids (same key literal, or raw id columns)."""
    if entity.id_column is not None:
        return "id_column"
    return f"keys:{entity.key_literal or ''}"


def _key_expr(entity: EntitySpec) -> str:
    """What the id is a function of: equal keys give equal ids (``NULL``: no id)."""
    if entity.id_column is not None:
        return raw_column(entity.id_column)
    if len(entity.keys) == 1:
        return raw_column(entity.keys[0])
    parts = ", ".join(raw_column(k) for k in entity.keys)
    values = f"list_sort(list_filter([{parts}], x -> x IS NOT NULL))"
    return f"CASE WHEN len({values}) = 0 THEN NULL ELSE array_to_string({values}, '') END"


def _id_expr(entity: EntitySpec) -> str:
    """FtM's id: SHA-1 of the key literal and the sorted key values."""
    key = _key_expr(entity)
    if entity.id_column is not None:
        return key
    literal = quote_str(entity.key_literal or "")
    return f"CASE WHEN {key} IS NULL THEN NULL ELSE sha1({literal} || {key}) END"


def _describe_keys(entity: EntitySpec) -> str:
    if entity.id_column is not None:
        return f"{entity.name}: id_column {entity.id_column!r}"
    return f"{entity.name}: keys " + ", ".join(repr(k) for k in entity.keys)


def _values_expr(prop: PropertySpec) -> tuple[str, bool]:
    """A ``VARCHAR[]`` of raw values for a property, and whether it can hold several."""
    if prop.template is not None:
        pieces: list[str] = []
        pos = 0
        for match in TEMPLATE_REF.finditer(prop.template):
            if match.start() > pos:
                pieces.append(quote_str(prop.template[pos : match.start()]))
            pieces.append(f"coalesce({raw_column(match.group(1))}, '')")
            pos = match.end()
        if pos < len(prop.template):
            pieces.append(quote_str(prop.template[pos:]))
        joined = " || ".join(pieces) if pieces else "''"
        items = f"[nullif(trim({joined}, {_WS}), '')]"
        multi = False
    else:
        parts = [quote_str(v) for v in prop.literals] + [raw_column(c) for c in prop.columns]
        items = f"[{', '.join(parts)}]"
        multi = len(parts) > 1
        if prop.join is not None:
            filtered = f"list_filter({items}, x -> x IS NOT NULL)"
            items = f"[nullif(array_to_string({filtered}, {quote_str(prop.join)}), '')]"
            multi = False
    if prop.split is not None:
        sep = quote_str(prop.split)
        items = (
            f"flatten(list_transform(list_filter({items}, x -> x IS NOT NULL), "
            f"x -> list_transform(string_split(x, {sep}), y -> nullif(trim(y, {_WS}), ''))))"
        )
        multi = True
    return items, multi


def compile_query(spec: QuerySpec, model: Model, dialect: str = "duckdb") -> QueryPlan:
    """Compile one query of a mapping into SQL for ``dialect``."""
    if dialect not in DIALECTS:
        raise UnsupportedOperation(f"no SQL dialect {dialect!r} (available: {DIALECTS})")
    ids = {e.name: f"__id_{i}" for i, e in enumerate(spec.entities)}
    columns = spec.refs
    select_cols = ", ".join(quote_ident(c) for c in columns)
    id_cols = ", ".join(f"{_id_expr(e)} AS {ids[e.name]}" for e in spec.entities)
    where = ["__row >= $lo", "__row < $hi"]
    for name, values in spec.filters:
        where.append(f"coalesce({raw_column(name)}, '') IN ({_in_list(values)})")
    for name, values in spec.filters_not:
        where.append(f"coalesce({raw_column(name)}, '') NOT IN ({_in_list(values)})")
    chunk_sql = (
        f"SELECT __row, {id_cols}{', ' if select_cols else ''}{select_cols} "
        f"FROM {{src}} WHERE {' AND '.join(where)}"
    )

    cleaners: dict[str, Cleaner] = {}
    required: list[RequiredCheck] = []
    multi_valued: set[str] = set()
    selects: list[str] = []
    for entity in spec.entities:
        schema = model.get(entity.schema)
        assert schema is not None
        items = [
            f"[{{'p': '{ID_PROP}', 't': 'id', 'c': NULL::VARCHAR, "
            f"'v': {ids[entity.name]}, 'q': false}}]"
        ]
        for pspec in entity.properties:
            prop = schema.get(pspec.name)
            assert prop is not None
            cleaner = cleaner_for(prop, pspec.format, spec.countries)
            if pspec.entity is not None:
                values, multi = f"[{ids[pspec.entity]}]", False
            else:
                values, multi = _values_expr(pspec)
            if multi:
                multi_valued.add(entity.name)
            if pspec.required:
                values = f"coalesce(nullif(list_filter({values}, x -> x IS NOT NULL), []), [NULL])"
                required.append(
                    RequiredCheck(entity.name, prop.name, multi, _describe(entity, pspec))
                )
            else:
                values = f"list_filter({values}, x -> x IS NOT NULL)"
            cid = "NULL::VARCHAR"
            if cleaner is not None:
                cleaners[cleaner.id] = cleaner
                cid = quote_str(cleaner.id)
            items.append(
                f"list_transform({values}, x -> {{'p': {quote_str(prop.name)}, "
                f"'t': {quote_str(prop.type.name)}, 'c': {cid}, 'v': x, "
                f"'q': {'true' if pspec.required else 'false'}}})"
            )
        selects.append(
            f"SELECT __row, {quote_str(entity.name)} AS ent, "
            f"{quote_str(family_of(entity))} AS fam, {ids[entity.name]} AS entity_id, "
            f"{quote_str(schema.name)} AS schema, "
            f"unnest(flatten([{', '.join(items)}]), recursive := true) "
            f"FROM {{chunk}} WHERE {ids[entity.name]} IS NOT NULL"
        )
    stage_sql = (
        "SELECT __row, ent, fam, entity_id, schema, p AS prop, t AS prop_type, "
        "c AS cleaner, v AS raw, q AS required FROM (" + " UNION ALL ".join(selects) + ")"
    )
    fast_cases = [
        f"WHEN cleaner = {quote_str(c.id)} THEN ({expr})"
        for c in cleaners.values()
        if (expr := fast_path(c, "raw")) is not None
    ]
    fast_sql = (
        "CASE WHEN cleaner IS NULL THEN true WHEN raw IS NULL THEN false "
        + " ".join(fast_cases)
        + " ELSE false END"
    )
    return QueryPlan(
        key=spec.key,
        columns=columns,
        chunk_sql=chunk_sql,
        stage_sql=stage_sql,
        fast_sql=fast_sql,
        cleaners=tuple(cleaners.values()),
        required=tuple(required),
        families={e.name: family_of(e) for e in spec.entities},
        multi_valued=frozenset(multi_valued),
        id_columns=ids,
        id_exprs={e.name: _key_expr(e) for e in spec.entities},
        key_descriptions={e.name: _describe_keys(e) for e in spec.entities},
    )


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
