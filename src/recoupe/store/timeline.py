"""What happened when: timelines and histograms over statements and edges, in SQL.

An item of a timeline is either

- a dated statement of the entity (a property of type date: ``birthDate``, ``activatedAt``,
  ``incorporationDate``...), ``kind = 'statement'``; or
- a dated edge touching it (``edges`` with a ``start_date``, where the holder of the date
  is an interval: a call, a payment, a journey, a directorship), ``kind = 'edge'`` or
  ``'property'``. Edges held by other entities carry that entity's own dates (a person's
  address link carries their birth date) and are left out.

The entity's holdings (:data:`recoupe.ontology.located.HOLDINGS`: a person's phone lines)
are followed one hop, so a person's timeline shows the calls of their lines; ``subject``
then names the line.

Cost: the store has no index on entity ids, so each lookup scans ``statements`` (filtered
by property first, which the engine does inside the scan) and ``edges`` (source and
target): about a second per ten million edges on two cores.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from followthemoney.exc import InvalidData

from recoupe.errors import ConfigError
from recoupe.ontology.located import located
from recoupe.security.reader import Reader
from recoupe.sql import quote_str
from recoupe.store.duckdb import DuckDBStore

INTERVALS = ("hour", "day", "week", "month", "year")


@dataclass(frozen=True)
class TimelineItem:
    """One dated fact about ``subject`` (the entity, or a line it holds)."""

    date: str
    end_date: str | None
    kind: str
    schema: str
    prop: str | None
    subject: str
    direction: str | None  #: "out" when ``subject`` is the edge source, "in" the target
    other: str | None
    event_id: str
    dataset: str


@dataclass(frozen=True)
class Bucket:
    """Events in the interval starting at ``start`` (of ``schema`` when split)."""

    start: datetime
    schema: str | None
    count: int


def in_list(values: Iterable[str]) -> str:
    """A SQL list of string literals for ``IN``: the engine pushes it into the scan.

    (``list_contains`` on a list parameter is evaluated row by row instead.)
    """
    items = sorted(set(values))
    return "(" + (", ".join(quote_str(v) for v in items) if items else "NULL") + ")"


def schema_prop_sql(pairs: Iterable[tuple[str, str]]) -> str:
    """A predicate on statements: (``schema``, ``prop``) is one of ``pairs``.

    Written as ``prop = ... AND schema IN (...)`` per property, which the engine checks
    inside the scan (a list of tuples would be a join).
    """
    by_prop: dict[str, set[str]] = {}
    for schema, prop in pairs:
        by_prop.setdefault(prop, set()).add(schema)
    if not by_prop:
        return "false"
    terms = [
        f"(prop = {quote_str(p)} AND schema IN {in_list(s)})" for p, s in sorted(by_prop.items())
    ]
    return "(" + " OR ".join(terms) + ")"


def parse_date_sql(value: str) -> str:
    """SQL: a TIMESTAMP from an FtM date of any precision (year, month, day, time)."""
    return (
        f"coalesce(TRY_CAST({value} AS TIMESTAMP), try_strptime({value}, '%Y-%m'), "
        f"try_strptime({value}, '%Y'))"
    )


def _dated_sql(store: DuckDBStore, schemata: Iterable[str]) -> str:
    """A predicate on statements: a property of type date of one of ``schemata``."""
    pairs: list[tuple[str, str]] = []
    for name in schemata:
        schema = store.model.get(name)
        props = schema.properties.values() if schema is not None else []
        pairs.extend((name, p.name) for p in props if p.type.name == "date")
    return schema_prop_sql(pairs)


def _common(store: DuckDBStore, schemata: set[str]) -> str:
    try:
        return store.common_schema(schemata)
    except InvalidData:  # statements of unrelated schemata: keep one, by name
        return sorted(schemata)[0]


def schemata_of(store: DuckDBStore, reader: Reader, ids: Iterable[str]) -> dict[str, set[str]]:
    """The schemata the reader sees each of ``ids`` with (absent: not visible)."""
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    rows = store.con.execute(
        f"SELECT entity_id, list(DISTINCT schema) FROM statements WHERE prop = 'id' "
        f"AND entity_id IN {in_list(wanted)} AND {store.scope_sql(reader)} GROUP BY entity_id"
    ).fetchall()
    return {str(e): {str(x) for x in names} for e, names in rows}


def _intervals(store: DuckDBStore) -> str:
    names = sorted(s.name for s in store.model.schemata.values() if s.is_a("Interval"))
    return ", ".join(quote_str(n) for n in names)


def related(
    store: DuckDBStore, reader: Reader, ids: Sequence[str], expand: bool = True
) -> list[str]:
    """``ids`` and, when ``expand``, what they hold (a person's phone lines)."""
    wanted = sorted(set(ids))
    holdings = located(store.model).holdings
    if not expand or not holdings or not wanted:
        return wanted
    held = schema_prop_sql((h.schema, h.prop) for h in holdings)
    rows = store.con.execute(
        f"SELECT DISTINCT entity_id FROM statements WHERE {store.scope_sql(reader)} "
        f"AND prop IN {in_list(h.prop for h in holdings)} AND {held} "
        f"AND value IN {in_list(wanted)}"
    ).fetchall()
    return sorted(set(wanted) | {str(r[0]) for r in rows})


def _items_sql(store: DuckDBStore, reader: Reader, ids: Sequence[str]) -> str:
    """Every dated item of ``ids``, within ``$since`` and ``$until``."""
    scope = store.scope_sql(reader)
    r = in_list(ids)
    kinds = schemata_of(store, reader, ids)
    dated = _dated_sql(store, {s for names in kinds.values() for s in names})
    return f"""
        items AS (
            SELECT s.value AS date, NULL::VARCHAR AS end_date, 'statement' AS kind, s.schema,
                   s.prop, s.entity_id AS subject, NULL::VARCHAR AS direction,
                   NULL::VARCHAR AS other, s.entity_id AS event_id, s.source_id
            FROM statements s WHERE {scope} AND {dated} AND s.entity_id IN {r}
            UNION ALL
            SELECT e.start_date, e.end_date, e.kind, e.schema, e.prop,
                   CASE WHEN e.mine THEN e.source ELSE e.target END,
                   CASE WHEN e.mine THEN 'out' ELSE 'in' END,
                   CASE WHEN e.mine THEN e.target ELSE e.source END,
                   e.entity_id, e.source_id
            FROM (SELECT *, source IN {r} AS mine FROM edges
                  WHERE {scope} AND start_date IS NOT NULL
                    AND schema IN ({_intervals(store)})
                    AND (source IN {r} OR target IN {r})) e),
        dated AS (
            SELECT i.*, f.dataset FROM items i JOIN sources f USING (source_id)
            WHERE ($since::VARCHAR IS NULL OR i.date >= $since::VARCHAR)
              AND ($until::VARCHAR IS NULL
                   OR left(i.date, length($until::VARCHAR)) <= $until::VARCHAR))
    """


def timeline(
    store: DuckDBStore,
    reader: Reader,
    entity_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 100,
    offset: int = 0,
    expand: bool = True,
) -> tuple[int, list[TimelineItem]]:
    """Dated items of an entity in date order: (how many in all, the page asked for).

    ``since`` and ``until`` are ISO dates or date-times, both inclusive (``until``
    ``2024-03-01`` keeps everything on that day).
    """
    ids = related(store, reader, [entity_id], expand)
    rows = store.con.execute(
        f"""
        WITH {_items_sql(store, reader, ids)}
        SELECT count(*) OVER (), date, end_date, kind, schema, prop, subject, direction, other,
               event_id, dataset
        FROM (SELECT DISTINCT * EXCLUDE (source_id) FROM dated)
        ORDER BY date, event_id, kind, prop NULLS FIRST, subject, dataset
        LIMIT $limit OFFSET $offset
        """,
        {"since": since, "until": until, "limit": limit, "offset": offset},
    ).fetchall()
    if not rows:
        return _count(store, reader, ids, since, until), []
    return int(rows[0][0]), [TimelineItem(*r[1:]) for r in rows]


def _count(
    store: DuckDBStore,
    reader: Reader,
    ids: Sequence[str],
    since: str | None,
    until: str | None,
) -> int:
    row = store.con.execute(
        f"WITH {_items_sql(store, reader, ids)} "
        "SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (source_id) FROM dated)",
        {"since": since, "until": until},
    ).fetchone()
    return int(row[0]) if row else 0


def histogram(
    store: DuckDBStore,
    reader: Reader,
    entity_ids: Sequence[str],
    interval: str = "month",
    *,
    by_schema: bool = False,
    since: str | None = None,
    until: str | None = None,
    expand: bool = True,
) -> list[Bucket]:
    """How many events of ``entity_ids`` fall in each interval (and schema), in order.

    An event counts once however many of the entities take part in it. A date less
    precise than the interval counts at its start (``2024`` in January's bucket).
    """
    if interval not in INTERVALS:
        raise ConfigError(f"interval {interval!r}: use one of {', '.join(INTERVALS)}")
    schema = "schema" if by_schema else "NULL::VARCHAR"
    ids = related(store, reader, entity_ids, expand)
    rows = store.con.execute(
        f"""
        WITH {_items_sql(store, reader, ids)},
        events AS (SELECT DISTINCT event_id, schema, prop, date FROM dated),
        t AS (SELECT date_trunc('{interval}', {parse_date_sql("date")}) AS start,
                     {schema} AS schema FROM events)
        SELECT start, schema, count(*) FROM t WHERE start IS NOT NULL
        GROUP BY start, schema ORDER BY start, schema NULLS FIRST
        """,
        {"since": since, "until": until},
    ).fetchall()
    return [Bucket(r[0], r[1], int(r[2])) for r in rows]


def captions(store: DuckDBStore, reader: Reader, ids: Iterable[str]) -> dict[str, str]:
    """A caption for each of ``ids`` the reader may see (FtM's caption properties)."""
    kinds = schemata_of(store, reader, ids)
    if not kinds:
        return {}
    schema_of = {e: store.model.get(_common(store, names)) for e, names in kinds.items()}
    props = {p for schema in schema_of.values() if schema is not None for p in schema.caption}
    if not props:
        return {}
    rows = store.con.execute(
        f"SELECT entity_id, prop, min(value) FROM statements WHERE {store.scope_sql(reader)} "
        f"AND prop IN {in_list(props)} AND entity_id IN {in_list(kinds)} GROUP BY ALL"
    ).fetchall()
    values: dict[str, dict[str, str]] = {}
    for entity, prop, value in rows:
        values.setdefault(str(entity), {})[str(prop)] = str(value)
    result: dict[str, str] = {}
    for entity, found in values.items():
        schema = schema_of.get(entity)
        for prop in schema.caption if schema is not None else []:
            if prop in found:
                result[entity] = found[prop]
                break
    return result


def visible_schema(store: DuckDBStore, reader: Reader, entity_id: str) -> str | None:
    """The schema of ``entity_id`` when the reader may see it, else ``None``."""
    names = schemata_of(store, reader, [entity_id]).get(entity_id)
    return _common(store, names) if names else None
