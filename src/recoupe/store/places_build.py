"""Building the location tables from all statements, in one transaction, in SQL.

Tables (read by :mod:`recoupe.store.places`):

- ``places(entity_id, schema, place_id, lat, lon, source_id, coord_source_id)``: an entity
  with coordinates of its own (``place_id = entity_id``), or through an address link (a
  person at their geocoded address: ``place_id`` is the address);
- ``sightings(subject_h, event_h, schema, role, ts, lat, lon, place_h, source_id,
  place_source_id, coord_source_id)``: one row per located participation, in time order
  (a phone line under a cell tower when a call was placed; ``role`` is the place property,
  here ``callerCell``). Entity ids are kept as 64-bit hashes: ten million calls give twenty
  million sightings, and sorting or joining them with 40-character ids in every row costs
  several times more memory and time. ``sighting_ids(h, id)`` (subjects and places) and
  ``sighting_events(h, id)`` give the ids back; the view ``sightings_named`` shows
  sightings with ``subject``, ``event_id`` and ``place_id`` (for a few rows at a time: it
  joins the dictionaries);
- ``places_meta``: the store generation and engine version they were built from (hashes
  are the engine's), and what was left out, by count.

What is located, and how, is declared in :mod:`recoupe.ontology.located`. A derived row
mixes statements of up to three sources (the event or the link, the place's link to its
coordinates, the coordinates), so it keeps the three source ids and a reader sees it only
when all of them are visible. Sightings need a time of day: a date alone cannot place
anyone within minutes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import duckdb

from recoupe.errors import StoreError
from recoupe.ontology.located import Located, Presence, located
from recoupe.sql import quote_ident, quote_str, values_table
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.timeline import in_list, schema_prop_sql

#: the layout of the tables built here: a build of another layout or engine is stale
FORMAT = 1


@dataclass(frozen=True)
class PlacesBuild:
    """What a refresh built, and every value it had to leave out (with why, by count)."""

    generation: int
    engine: str
    built_at: datetime
    seconds: float
    places: int
    sightings: int
    #: coordinate values that are not numbers, or out of range
    invalid_coordinates: int
    #: entities with coordinate values but no usable pair (one missing, or at (0, 0))
    unplaced: int
    #: participations (subject, place, time) whose place has no coordinates
    unlocated: int
    #: participations whose time is missing or has no time of day
    undated: int


def _is_valid(axis: str, num: str) -> str:
    bound = "90" if axis == "lat" else "180"
    return f"({num} IS NOT NULL AND isfinite({num}) AND abs({num}) <= {bound})"


def _timestamp(value: str) -> str:
    """A TIMESTAMP from an ISO date-time with at least hours and minutes, else NULL."""
    return f"CASE WHEN length({value}) >= 16 THEN TRY_CAST({value} AS TIMESTAMP) END"


def _build_points(con: duckdb.DuckDBPyConnection, loc: Located) -> tuple[int, int]:
    """``__points``: entities with coordinates of their own; returns (invalid, unplaced)."""
    axes = [(c.schema, c.latitude, "lat") for c in loc.coordinates]
    axes += [(c.schema, c.longitude, "lon") for c in loc.coordinates]
    valid = (
        f"CASE axis WHEN 'lat' THEN {_is_valid('lat', 'num')} ELSE {_is_valid('lon', 'num')} END"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __coord AS
        SELECT *, {valid} AS valid FROM (
            SELECT st.entity_id, st.schema, ds.ds, st.source_id, st.source_row, a.axis,
                   TRY_CAST(st.value AS DOUBLE) AS num
            FROM statements st JOIN __ds ds USING (source_id)
            JOIN {values_table(axes, "schema, prop, axis")} a
              ON a.schema = st.schema AND a.prop = st.prop
            WHERE st.prop IN {in_list(a[1] for a in axes)})
        """
    )
    # one latitude and one longitude per entity and dataset: the common case; several:
    # pair them by the source row they were read from
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE __points AS
        WITH v AS (SELECT * FROM __coord WHERE valid),
        g AS (SELECT entity_id, ds, min(schema) AS schema,
                     count(DISTINCT num) FILTER (WHERE axis = 'lat') AS nlat,
                     count(DISTINCT num) FILTER (WHERE axis = 'lon') AS nlon,
                     min(num) FILTER (WHERE axis = 'lat') AS lat,
                     min(num) FILTER (WHERE axis = 'lon') AS lon,
                     min(source_id) AS source_id
              FROM v GROUP BY entity_id, ds),
        paired AS (
            SELECT v.entity_id, v.ds, min(v.schema) AS schema,
                   min(v.num) FILTER (WHERE v.axis = 'lat') AS lat,
                   min(v.num) FILTER (WHERE v.axis = 'lon') AS lon, v.source_id
            FROM v JOIN g ON g.entity_id = v.entity_id AND g.ds = v.ds
            WHERE g.nlat > 1 OR g.nlon > 1
            GROUP BY v.entity_id, v.ds, v.source_id, v.source_row
            HAVING count(*) FILTER (WHERE v.axis = 'lat') = 1
               AND count(*) FILTER (WHERE v.axis = 'lon') = 1)
        SELECT DISTINCT * FROM (
            SELECT entity_id, ds, schema, lat, lon, source_id FROM g
            WHERE nlat = 1 AND nlon = 1
            UNION ALL SELECT entity_id, ds, schema, lat, lon, source_id FROM paired)
        """
    )
    # (0, 0) is where blank coordinates land far more often than anyone stands
    con.execute("DELETE FROM __points WHERE lat = 0 AND lon = 0")
    row = con.execute(
        "SELECT (SELECT count(*) FROM __coord WHERE NOT valid), (SELECT count(*) FROM "
        "(SELECT DISTINCT entity_id, ds FROM __coord) c ANTI JOIN __points p "
        "USING (entity_id, ds))"
    ).fetchone()
    con.execute("DROP TABLE __coord")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _build_places(con: duckdb.DuckDBPyConnection, loc: Located) -> None:
    links = values_table([(a.schema, a.prop) for a in loc.addresses], "schema, prop")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE places AS
        SELECT * FROM (
            SELECT entity_id, schema, entity_id AS place_id, lat, lon, source_id,
                   source_id AS coord_source_id
            FROM __points
            UNION ALL
            SELECT DISTINCT st.entity_id, st.schema, st.value, p.lat, p.lon, st.source_id,
                   p.source_id
            FROM statements st JOIN {links} a ON a.schema = st.schema AND a.prop = st.prop
            JOIN __points p ON p.entity_id = st.value
            WHERE st.prop IN {in_list(a.prop for a in loc.addresses)})
        ORDER BY lat, lon, entity_id
        """
    )


def _pivot_sql(schema: str, presences: list[Presence], table: str) -> str:
    """One aggregation of the statements of ``schema`` events: one row per event.

    Events and the entities they name are carried as hashes (entities are counted too, to
    find events naming several lines or places), so the aggregation holds no text.
    """
    linked = sorted({p for x in presences for p in (x.subject, x.place)})
    times = sorted({t for x in presences for t in x.times})
    aggs = []
    for prop in linked:
        cond = f"prop = {quote_str(prop)}"
        aggs.append(f"min(hash(value)) FILTER (WHERE {cond}) AS {quote_ident('h_' + prop)}")
        aggs.append(f"count(*) FILTER (WHERE {cond}) AS {quote_ident('n_' + prop)}")
    for prop in times:
        ts = _timestamp("value")
        aggs.append(
            f"min(CASE WHEN prop = {quote_str(prop)} THEN {ts} END) AS {quote_ident('t_' + prop)}"
        )
    return f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT hash(st.entity_id) AS event_h, ds.ds, max(st.source_id) AS source_id,
               {", ".join(aggs)}
        FROM statements st JOIN __ds ds USING (source_id)
        WHERE st.schema = {quote_str(schema)} AND st.prop IN {in_list([*linked, *times])}
        GROUP BY hash(st.entity_id), ds.ds
    """


def _participations_sql(tables: dict[str, list[Presence]]) -> str:
    """Every (event, subject, place, time) of the pivoted events, as hashes."""
    selects = []
    for table, presences in tables.items():
        for p in presences:
            h_s, h_p = quote_ident("h_" + p.subject), quote_ident("h_" + p.place)
            n_s, n_p = quote_ident("n_" + p.subject), quote_ident("n_" + p.place)
            ts = ", ".join(quote_ident("t_" + t) for t in p.times)
            selects.append(
                f"SELECT event_h, ds, source_id, {quote_str(p.schema)} AS schema, "
                f"{quote_str(p.subject)} AS subject_prop, {quote_str(p.place)} AS role, "
                f"{h_s} AS subject_h, {h_p} AS place_h, coalesce({ts}) AS ts, "
                f"{n_s} > 1 OR {n_p} > 1 AS multi FROM {table} WHERE {n_s} > 0 AND {n_p} > 0"
            )
    return "(" + " UNION ALL ".join(selects) + ")"


def _build_ids(
    con: duckdb.DuckDBPyConnection, store: DuckDBStore, loc: Located, parts: str
) -> None:
    """``sighting_ids`` (subjects and places) and ``sighting_events``: the text of hashes.

    Both are read from ``id`` statements (cheap to filter); subjects only named by events,
    without statements of their own, from the events' values.
    """
    events = sorted({p.schema for p in loc.presences})
    ranges = sorted(
        {
            s.name
            for p in loc.presences
            if (prop := store.model.get_qname(f"{p.schema}:{p.subject}")) is not None
            and prop.range is not None
            for s in store.model.schemata.values()
            if s.is_a(prop.range)
        }
    )
    con.execute(
        "CREATE OR REPLACE TABLE sighting_events AS SELECT hash(entity_id) AS h, "
        f"entity_id AS id FROM statements WHERE prop = 'id' AND schema IN {in_list(events)}"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE sighting_ids AS
        SELECT hash(entity_id) AS h, entity_id AS id FROM statements
        WHERE prop = 'id' AND schema IN {in_list(ranges)}
        UNION SELECT hash(entity_id), entity_id FROM places
        """
    )
    missing = con.execute(
        f"SELECT count(*) FROM (SELECT subject_h FROM {parts} UNION SELECT subject_h "
        "FROM __multi) WHERE subject_h NOT IN (SELECT h FROM sighting_ids)"
    ).fetchone()
    if missing and missing[0]:
        subjects = [(p.schema, p.subject) for p in loc.presences]
        con.execute(
            f"""
            INSERT INTO sighting_ids
            SELECT hash(id), id FROM (
                SELECT DISTINCT value AS id FROM statements
                WHERE prop IN {in_list(s for _, s in subjects)}
                  AND {schema_prop_sql(subjects)})
            WHERE hash(id) NOT IN (SELECT h FROM sighting_ids)
            """
        )
    for table in ("sighting_ids", "sighting_events"):
        clash = con.execute(
            f"SELECT h FROM {table} GROUP BY h HAVING min(hash(id, 'x')) <> max(hash(id, 'x')) "
            "LIMIT 1"
        ).fetchone()
        if clash is not None:
            raise StoreError(f"two entity ids share the hash {clash[0]}: places cannot be built")


def _build_sightings(
    con: duckdb.DuckDBPyConnection, store: DuckDBStore, loc: Located
) -> tuple[int, int]:
    """``sightings`` and ``sighting_ids`` from every presence; returns (unlocated, undated)."""
    by_schema: dict[str, list[Presence]] = {}
    for p in loc.presences:
        by_schema.setdefault(p.schema, []).append(p)
    tables = {f"__events{i}": by_schema[s] for i, s in enumerate(sorted(by_schema))}
    for table, presences in tables.items():
        con.execute(_pivot_sql(presences[0].schema, presences, table))
    parts = _participations_sql(tables)
    _expand_multi(con, parts, [prop for p in loc.presences for prop in (p.subject, p.place)])
    _build_ids(con, store, loc, parts)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __places AS SELECT hash(entity_id) AS h, * FROM places"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE sightings AS
        SELECT u.subject_h, u.event_h, u.schema, u.role, u.ts, p.lat, p.lon,
               p.h AS place_h, u.source_id, p.source_id AS place_source_id, p.coord_source_id
        FROM (SELECT * EXCLUDE (multi) FROM {parts} WHERE ts IS NOT NULL AND NOT multi
              UNION ALL BY NAME SELECT * FROM __multi) u
        JOIN __places p ON p.h = u.place_h
        ORDER BY u.ts
        """
    )
    row = con.execute(
        "SELECT count(*) FILTER (WHERE ts IS NOT NULL AND place_h NOT IN "
        f"(SELECT h FROM __places)), count(*) FILTER (WHERE ts IS NULL) FROM {parts}"
    ).fetchone()
    for table in [*tables, "__places", "__multi"]:
        con.execute(f"DROP TABLE {table}")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _expand_multi(con: duckdb.DuckDBPyConnection, parts: str, props: list[str]) -> None:
    """``__multi``: events naming several subjects or places, one row per pair of them."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __multi AS
        WITH m AS (SELECT * FROM {parts} WHERE multi AND ts IS NOT NULL),
        s AS (SELECT hash(st.entity_id) AS event_h, st.schema, st.prop, st.value, ds.ds
              FROM statements st JOIN __ds ds USING (source_id)
              WHERE st.prop IN {in_list(props)}
                AND hash(st.entity_id) IN (SELECT event_h FROM m))
        SELECT m.event_h, m.ds, m.source_id, m.schema, m.subject_prop, m.role,
               hash(a.value) AS subject_h, hash(b.value) AS place_h, m.ts
        FROM m
        JOIN s a ON a.event_h = m.event_h AND a.ds = m.ds AND a.schema = m.schema
                 AND a.prop = m.subject_prop
        JOIN s b ON b.event_h = m.event_h AND b.ds = m.ds AND b.schema = m.schema
                 AND b.prop = m.role
        """
    )


_NAMED_VIEW = """
CREATE OR REPLACE VIEW sightings_named AS
WITH ids AS (SELECT h, min(id) AS id FROM sighting_ids GROUP BY h),
events AS (SELECT h, min(id) AS id FROM sighting_events GROUP BY h)
SELECT a.id AS subject, b.id AS event_id, s.schema, s.role, s.ts, s.lat, s.lon,
       c.id AS place_id, s.source_id, s.place_source_id, s.coord_source_id
FROM sightings s LEFT JOIN ids a ON a.h = s.subject_h LEFT JOIN events b ON b.h = s.event_h
LEFT JOIN ids c ON c.h = s.place_h
"""


def refresh_places(store: DuckDBStore) -> PlacesBuild:
    """Rebuild ``places``, ``sightings`` and ``sighting_ids`` in one transaction."""
    loc = located(store.model)
    started = time.monotonic()
    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        generation = store.generation()
        con.execute(
            "CREATE OR REPLACE TEMP TABLE __ds AS SELECT source_id, "
            "dense_rank() OVER (ORDER BY dataset)::INTEGER AS ds FROM sources"
        )
        invalid, unplaced = _build_points(con, loc)
        _build_places(con, loc)
        unlocated, undated = _build_sightings(con, store, loc)
        con.execute(_NAMED_VIEW)
        con.execute("DROP TABLE __points")
        con.execute("DROP TABLE __ds")
        counts = con.execute(
            "SELECT (SELECT count(*) FROM places), (SELECT count(*) FROM sightings)"
        ).fetchone()
        assert counts is not None
        build = PlacesBuild(
            generation=generation,
            engine=_engine(),
            built_at=datetime.now().replace(microsecond=0),
            seconds=round(time.monotonic() - started, 3),
            places=int(counts[0]),
            sightings=int(counts[1]),
            invalid_coordinates=invalid,
            unplaced=unplaced,
            unlocated=unlocated,
            undated=undated,
        )
        con.execute(
            "CREATE OR REPLACE TABLE places_meta (generation BIGINT, engine VARCHAR, "
            "built_at TIMESTAMP, seconds DOUBLE, places BIGINT, sightings BIGINT, "
            "invalid_coordinates BIGINT, unplaced BIGINT, unlocated BIGINT, undated BIGINT)"
        )
        con.execute(
            "INSERT INTO places_meta VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                build.generation, build.engine, build.built_at, build.seconds, build.places,
                build.sightings, build.invalid_coordinates, build.unplaced, build.unlocated,
                build.undated,
            ],
        )  # fmt: skip
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise StoreError(f"rebuilding places failed: {str(exc).splitlines()[0]}") from exc
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return build


def _engine() -> str:
    """What the tables depend on besides the statements: their layout and the hash."""
    return f"places {FORMAT}, duckdb {duckdb.__version__}"


def places_build(store: DuckDBStore) -> PlacesBuild | None:
    """What the last refresh built, or ``None`` when places were never built."""
    found = store.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'places_meta'"
    ).fetchone()
    if not found or not found[0]:
        return None
    try:
        row = store.con.execute(
            "SELECT generation, engine, built_at, seconds, places, sightings, "
            "invalid_coordinates, unplaced, unlocated, undated FROM places_meta"
        ).fetchone()
    except duckdb.BinderException:
        return None  # built by an earlier layout: rebuilt like a store that never had one
    return PlacesBuild(*row) if row else None


def places_stale(store: DuckDBStore) -> bool:
    """Whether places must be rebuilt: never built, an import since, or a new engine."""
    build = places_build(store)
    return build is None or build.generation != store.generation() or build.engine != _engine()
