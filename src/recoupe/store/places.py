"""Where things are: derived location tables and geographic queries on the DuckDB store.

:func:`refresh_places` rebuilds, in one transaction and from every statement:

- ``places(entity_id, schema, place_id, lat, lon, source_id, coord_source_id)``: an entity
  with coordinates of its own (``place_id = entity_id``), or through an address link (a
  person at their geocoded address: ``place_id`` is the address);
- ``sightings(subject, event_id, schema, role, ts, lat, lon, place_id, source_id,
  place_source_id, coord_source_id)``: one row per located participation, in time order
  (a phone line under a cell tower when a call was placed: ``role`` is the place property,
  here ``callerCell``);
- ``places_meta``: the store generation they were built from and what was skipped.

What is located, and how, is declared in :mod:`recoupe.ontology.located`. A derived row
mixes statements of up to three sources (the event or the link, the place's link to its
coordinates, the coordinates), so a reader sees it only when all of them are visible.

Sightings need a time of day: a date alone cannot place anyone within minutes.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

import duckdb

from recoupe.errors import StoreError
from recoupe.ontology.located import Located, Presence, located
from recoupe.security.reader import Reader
from recoupe.sql import quote_ident, quote_str, values_table
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.timeline import in_list, in_list_pairs, related

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0

PLACES_TABLES = ("places", "sightings", "places_meta")
#: participations sorted at once when building sightings (a few hundred MB of memory)
SORT_ROWS = 3_000_000


@dataclass(frozen=True)
class PlacesBuild:
    """What a refresh built, and every value it had to leave out (with why, by count)."""

    generation: int
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


@dataclass(frozen=True)
class Place:
    """An entity at a point; ``place_id`` carries the coordinates (itself or its address)."""

    entity_id: str
    schema: str
    place_id: str
    lat: float
    lon: float
    datasets: tuple[str, ...]
    distance: float | None = None


@dataclass(frozen=True)
class Encounter:
    """Two sightings close in space and time: ours (``subject``) and theirs (``other``)."""

    subject: str
    other: str
    ts: datetime
    other_ts: datetime
    lat: float
    lon: float
    other_lat: float
    other_lon: float
    place_id: str
    other_place_id: str
    distance: float
    event_id: str
    other_event_id: str


@dataclass(frozen=True)
class Neighbour:
    """Someone seen near the entity: grouped to the owner of the lines when known."""

    entity_id: str
    subjects: tuple[str, ...]
    encounters: int
    first: datetime
    last: datetime
    closest: float
    examples: tuple[Encounter, ...]


# -- building ---------------------------------------------------------------------------
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
    """One aggregation of the statements of ``schema`` events, one row per event.

    Entity values are carried as 64-bit hashes (and counted, to find events naming several
    lines or places); their text comes back from small dictionaries at the end. Carrying
    strings through a ten-million-group aggregation would cost twice the time.
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
        SELECT st.entity_id AS event_id, ds.ds, max(st.source_id) AS source_id, {", ".join(aggs)}
        FROM statements st JOIN __ds ds USING (source_id)
        WHERE st.schema = {quote_str(schema)} AND st.prop IN {in_list([*linked, *times])}
        GROUP BY st.entity_id, ds.ds
    """


def _participations_sql(tables: dict[str, tuple[str, list[Presence]]]) -> str:
    """Every (event, subject, place, time) of the pivoted events, as hashes."""
    selects = []
    for table, presences in tables.values():
        for p in presences:
            h_s, h_p = quote_ident("h_" + p.subject), quote_ident("h_" + p.place)
            n_s, n_p = quote_ident("n_" + p.subject), quote_ident("n_" + p.place)
            ts = ", ".join(quote_ident("t_" + t) for t in p.times)
            selects.append(
                f"SELECT event_id, ds, source_id, {quote_str(p.schema)} AS schema, "
                f"{quote_str(p.subject)} AS subject_prop, {quote_str(p.place)} AS role, "
                f"{h_s} AS subject_h, {h_p} AS place_h, coalesce({ts}) AS ts, "
                f"{n_s} > 1 OR {n_p} > 1 AS multi FROM {table} WHERE {n_s} > 0 AND {n_p} > 0"
            )
    return "(" + " UNION ALL ".join(selects) + ")"


def _build_sightings(con: duckdb.DuckDBPyConnection, loc: Located) -> tuple[int, int]:
    """``sightings`` from every declared presence; returns (unlocated, undated)."""
    by_schema: dict[str, list[Presence]] = {}
    for p in loc.presences:
        by_schema.setdefault(p.schema, []).append(p)
    tables: dict[str, tuple[str, list[Presence]]] = {}
    for i, (schema, presences) in enumerate(sorted(by_schema.items())):
        tables[schema] = (f"__events{i}", presences)
        con.execute(_pivot_sql(schema, presences, f"__events{i}"))
    parts = _participations_sql(tables)
    subjects = [(p.schema, p.subject) for p in loc.presences]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __names AS
        SELECT hash(id) AS h, id FROM (
            SELECT DISTINCT value AS id FROM statements
            WHERE prop IN {in_list(s for _, s in subjects)}
              AND (schema, prop) IN {in_list_pairs(subjects)})
        """
    )
    clash = con.execute("SELECT h FROM __names GROUP BY h HAVING count(*) > 1").fetchone()
    if clash is not None:
        raise StoreError("two entity ids share a 64-bit hash: places cannot be built")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE __places AS SELECT hash(entity_id) AS h, * FROM places"
    )
    _expand_multi(con, parts, [prop for p in loc.presences for prop in (p.subject, p.place)])
    located_rows = f"""
        SELECT n.id AS subject, u.event_id, u.schema, u.role, u.ts, p.lat, p.lon,
               p.entity_id AS place_id, u.source_id, p.source_id AS place_source_id,
               p.coord_source_id
        FROM {parts} u JOIN __names n ON n.h = u.subject_h JOIN __places p ON p.h = u.place_h
        WHERE u.ts IS NOT NULL AND NOT u.multi
        UNION ALL
        SELECT m.subject, m.event_id, m.schema, m.role, m.ts, p.lat, p.lon, p.entity_id,
               m.source_id, p.source_id, p.coord_source_id
        FROM __multi m JOIN places p ON p.entity_id = m.place"""
    con.execute(f"CREATE OR REPLACE TABLE sightings AS SELECT * FROM ({located_rows}) WHERE false")
    # sorted a slice of time at a time: each sort stays in memory, the table in time order
    for lo, hi in _time_slices(con, parts):
        con.execute(
            f"INSERT INTO sightings SELECT * FROM ({located_rows}) "
            "WHERE ($lo::TIMESTAMP IS NULL OR ts >= $lo::TIMESTAMP) "
            "AND ($hi::TIMESTAMP IS NULL OR ts < $hi::TIMESTAMP) ORDER BY ts",
            {"lo": lo, "hi": hi},
        )
    row = con.execute(
        "SELECT count(*) FILTER (WHERE ts IS NOT NULL AND place_h NOT IN "
        f"(SELECT h FROM __places)), count(*) FILTER (WHERE ts IS NULL) FROM {parts}"
    ).fetchone()
    for table, _ in tables.values():
        con.execute(f"DROP TABLE {table}")
    for table in ("__names", "__places", "__multi"):
        con.execute(f"DROP TABLE {table}")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _time_slices(
    con: duckdb.DuckDBPyConnection, parts: str
) -> list[tuple[datetime | None, datetime | None]]:
    """Consecutive time ranges holding about :data:`SORT_ROWS` participations each."""
    row = con.execute(f"SELECT count(ts) FROM {parts}").fetchone()
    slices = max(1, math.ceil((int(row[0]) if row else 0) / SORT_ROWS))
    if slices == 1:
        return [(None, None)]
    quantiles = [k / slices for k in range(1, slices)]
    found = con.execute(
        f"SELECT approx_quantile(ts, {quantiles!r}) FROM {parts} WHERE ts IS NOT NULL"
    ).fetchone()
    cuts = sorted(set(found[0])) if found and found[0] else []
    edges: list[datetime | None] = [None, *cuts, None]
    return list(pairwise(edges))


def _expand_multi(con: duckdb.DuckDBPyConnection, parts: str, props: list[str]) -> None:
    """``__multi``: events naming several subjects or places, one row per pair of them."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE __multi AS
        WITH m AS (SELECT * FROM {parts} WHERE multi AND ts IS NOT NULL),
        s AS (SELECT st.entity_id, st.schema, st.prop, st.value, ds.ds
              FROM statements st JOIN __ds ds USING (source_id)
              WHERE st.prop IN {in_list(props)} AND st.entity_id IN (SELECT event_id FROM m))
        SELECT a.value AS subject, m.event_id, m.schema, m.role, m.ts, b.value AS place,
               m.source_id
        FROM m
        JOIN s a ON a.entity_id = m.event_id AND a.ds = m.ds AND a.schema = m.schema
                 AND a.prop = m.subject_prop
        JOIN s b ON b.entity_id = m.event_id AND b.ds = m.ds AND b.schema = m.schema
                 AND b.prop = m.role
        """
    )


def refresh_places(store: DuckDBStore) -> PlacesBuild:
    """Rebuild ``places`` and ``sightings`` from all statements, in one transaction."""
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
        unlocated, undated = _build_sightings(con, loc)
        con.execute("DROP TABLE __points")
        con.execute("DROP TABLE __ds")
        counts = con.execute(
            "SELECT (SELECT count(*) FROM places), (SELECT count(*) FROM sightings)"
        ).fetchone()
        assert counts is not None
        build = PlacesBuild(
            generation=generation,
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
            "CREATE OR REPLACE TABLE places_meta (generation BIGINT, built_at TIMESTAMP, "
            "seconds DOUBLE, places BIGINT, sightings BIGINT, invalid_coordinates BIGINT, "
            "unplaced BIGINT, unlocated BIGINT, undated BIGINT)"
        )
        con.execute(
            "INSERT INTO places_meta VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                build.generation, build.built_at, build.seconds, build.places, build.sightings,
                build.invalid_coordinates, build.unplaced, build.unlocated, build.undated,
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


def places_build(store: DuckDBStore) -> PlacesBuild | None:
    """What the last refresh built, or ``None`` when places were never built."""
    found = store.con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'places_meta'"
    ).fetchone()
    if not found or not found[0]:
        return None
    row = store.con.execute(
        "SELECT generation, built_at, seconds, places, sightings, invalid_coordinates, "
        "unplaced, unlocated, undated FROM places_meta"
    ).fetchone()
    return PlacesBuild(*row) if row else None


def places_stale(store: DuckDBStore) -> bool:
    """Whether an import run committed since places were built (or they never were)."""
    build = places_build(store)
    return build is None or build.generation != store.generation()


def require_places(store: DuckDBStore) -> PlacesBuild:
    """The current build; :class:`StoreError` when places were never built."""
    build = places_build(store)
    if build is None:
        raise StoreError("places and sightings are not built yet: refresh them first")
    return build


# -- reading ----------------------------------------------------------------------------
def _visible(store: DuckDBStore, reader: Reader, *columns: str) -> str:
    """A predicate: ``source_id`` and every other source column in ``columns`` visible."""
    scope = store.scope_sql(reader)
    if scope == "false":
        return "false"
    seen = f"(SELECT source_id FROM sources WHERE {scope})"
    return " AND ".join([scope, *(f"{quote_ident(c)} IN {seen}" for c in columns)])


def _box_sql(lat: str, lon: str, south: float, west: float, north: float, east: float) -> str:
    where = f"{lat} BETWEEN {south!r} AND {north!r}"
    if west <= east:
        return where + f" AND {lon} BETWEEN {west!r} AND {east!r}"
    return where + f" AND ({lon} >= {west!r} OR {lon} <= {east!r})"  # across 180°


def haversine_sql(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """SQL for the great-circle distance in metres between two points in degrees."""
    a = (
        f"pow(sin(radians({lat2} - {lat1}) / 2), 2) + cos(radians({lat1})) * "
        f"cos(radians({lat2})) * pow(sin(radians({lon2} - {lon1}) / 2), 2)"
    )
    return f"(2 * {EARTH_RADIUS_M!r} * asin(sqrt(least(1.0, {a}))))"


def radius_box(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    """(south, west, north, east) around a circle; the whole longitude range near a pole."""
    dlat = metres / METRES_PER_DEGREE
    south, north = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    cos = math.cos(math.radians(max(abs(south), abs(north))))
    if north >= 90.0 or south <= -90.0 or cos < 1e-6 or dlat / cos >= 180.0:
        return south, -180.0, north, 180.0
    dlon = dlat / cos
    west, east = lon - dlon, lon + dlon
    west = west + 360.0 if west < -180.0 else west
    east = east - 360.0 if east > 180.0 else east
    return south, west, north, east


def _schemata_sql(schemata: list[str] | None) -> str:
    if schemata is None:
        return "true"
    if not schemata:
        return "false"
    return "schema IN (" + ", ".join(quote_str(s) for s in schemata) + ")"


def _places_query(
    store: DuckDBStore,
    reader: Reader,
    where: str,
    distance: str,
    order: str,
    limit: int,
    offset: int,
) -> tuple[int, list[Place]]:
    require_places(store)
    vis = _visible(store, reader, "coord_source_id")
    rows = store.con.execute(
        f"""
        WITH p AS (SELECT * FROM places WHERE {vis} AND {where}),
        g AS (SELECT p.entity_id, p.schema, p.place_id, p.lat, p.lon, {distance} AS distance,
                     list_sort(list(DISTINCT f.dataset)) AS datasets
              FROM p JOIN sources f USING (source_id)
              GROUP BY p.entity_id, p.schema, p.place_id, p.lat, p.lon)
        SELECT count(*) OVER () AS total, * FROM g ORDER BY {order}
        LIMIT ? OFFSET ?
        """,
        [limit, offset],
    ).fetchall()
    total = int(rows[0][0]) if rows else _count_only(store, reader, where, vis)
    return total, [
        Place(r[1], r[2], r[3], float(r[4]), float(r[5]), tuple(r[7]), r[6]) for r in rows
    ]


def _count_only(store: DuckDBStore, reader: Reader, where: str, vis: str) -> int:
    """The number of matches when the page asked for is past the end."""
    row = store.con.execute(
        "SELECT count(*) FROM (SELECT DISTINCT entity_id, schema, place_id, lat, lon "
        f"FROM places WHERE {vis} AND {where})"
    ).fetchone()
    return int(row[0]) if row else 0


def in_box(
    store: DuckDBStore,
    reader: Reader,
    south: float,
    west: float,
    north: float,
    east: float,
    *,
    schemata: list[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Place]]:
    """Entities at points inside the box (west > east: the box crosses 180°); (total, page)."""
    where = _box_sql("lat", "lon", south, west, north, east) + " AND " + _schemata_sql(schemata)
    order = "lat, lon, entity_id, place_id"
    return _places_query(store, reader, where, "NULL::DOUBLE", order, limit, offset)


def in_radius(
    store: DuckDBStore,
    reader: Reader,
    lat: float,
    lon: float,
    metres: float,
    *,
    schemata: list[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> tuple[int, list[Place]]:
    """Entities within ``metres`` of (lat, lon), nearest first; (total, page)."""
    box = _box_sql("lat", "lon", *radius_box(lat, lon, metres))
    distance = haversine_sql(repr(lat), repr(lon), "lat", "lon")
    where = f"{box} AND {_schemata_sql(schemata)} AND {distance} <= {metres!r}"
    return _places_query(
        store, reader, where, distance, "distance, entity_id, place_id", limit, offset
    )


# -- co-location ------------------------------------------------------------------------
def near(
    store: DuckDBStore,
    reader: Reader,
    entity_id: str,
    metres: float,
    minutes: float,
    *,
    limit: int = 20,
    examples: int = 3,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Neighbour]:
    """Who was within ``metres`` of ``entity_id`` (or of lines it holds) within ``minutes``.

    ``since`` (inclusive) and ``until`` (exclusive) limit the entity's own sightings.

    Sightings of the entity and of what it holds (a person's phone lines) are joined to
    every other sighting in a time window (an equality join on time buckets of the window's
    width, then the exact bound), with a latitude/longitude box before the haversine.
    Others are grouped to the holder of their line when known; most encounters first.
    """
    require_places(store)
    loc = located(store.model)
    scope = store.scope_sql(reader)
    vis = _visible(store, reader, "place_source_id", "coord_source_id")
    window = max(1, round(minutes * 60))
    me = related(store, reader, [entity_id])
    mine = (
        f"{vis} AND subject IN {in_list(me)} "
        "AND ($since::TIMESTAMP IS NULL OR ts >= $since::TIMESTAMP) "
        "AND ($until::TIMESTAMP IS NULL OR ts < $until::TIMESTAMP)"
    )
    params: dict[str, object] = {"since": since, "until": until}
    span = store.con.execute(
        f"SELECT min(ts), max(ts) FROM sightings WHERE {mine}", params
    ).fetchone()
    if span is None or span[0] is None:
        return []
    # sightings are in time order: the bounds let the scan skip whole row groups
    lo, hi = span[0] - timedelta(seconds=window), span[1] + timedelta(seconds=window)
    distance = haversine_sql("t.lat", "t.lon", "o.lat", "o.lon")
    rows = store.con.execute(
        f"""
        WITH t AS (
            SELECT subject, event_id, ts, lat, lon, place_id,
                   floor(epoch(ts) / $window)::BIGINT + k.k AS near_bucket
            FROM sightings JOIN (VALUES (-1), (0), (1)) k(k) ON true WHERE {mine}),
        pairs AS (
            SELECT t.subject, o.subject AS other, t.ts, o.ts AS other_ts, t.lat, t.lon,
                   o.lat AS other_lat, o.lon AS other_lon, t.place_id,
                   o.place_id AS other_place_id, {distance} AS distance, t.event_id,
                   o.event_id AS other_event_id
            FROM t JOIN (
                SELECT subject, event_id, ts, lat, lon, place_id,
                       floor(epoch(ts) / $window)::BIGINT AS bucket
                FROM sightings
                WHERE {vis} AND ts BETWEEN $lo AND $hi AND subject NOT IN {in_list(me)}
            ) o ON o.bucket = t.near_bucket
            WHERE abs(epoch(o.ts) - epoch(t.ts)) <= $window
              AND abs(o.lat - t.lat) <= $dlat
              AND least(abs(o.lon - t.lon), 360 - abs(o.lon - t.lon))
                  <= $dlat / greatest(cos(radians(greatest(abs(t.lat), abs(o.lat)))), 1e-6)
              AND {distance} <= $metres),
        owners AS (
            SELECT entity_id AS other, min(value) AS holder FROM statements
            WHERE {scope} AND prop IN {in_list(loc.holding_props)}
              AND (schema, prop) IN {in_list_pairs((h.schema, h.prop) for h in loc.holdings)}
              AND entity_id IN (SELECT DISTINCT other FROM pairs)
            GROUP BY entity_id),
        g AS (SELECT coalesce(w.holder, p.other) AS who, p.* FROM pairs p
              LEFT JOIN owners w USING (other)),
        ranked AS (SELECT g.*, row_number() OVER (PARTITION BY who
                   ORDER BY distance, abs(epoch(other_ts) - epoch(ts)), ts, other_event_id)
                   AS n FROM g WHERE who NOT IN {in_list(me)})
        SELECT who, list_sort(list(DISTINCT other)), count(*), min(least(ts, other_ts)),
               max(greatest(ts, other_ts)), min(distance),
               list({{'subject': subject, 'other': other, 'ts': ts, 'other_ts': other_ts,
                      'lat': lat, 'lon': lon, 'other_lat': other_lat, 'other_lon': other_lon,
                      'place_id': place_id, 'other_place_id': other_place_id,
                      'distance': distance, 'event_id': event_id,
                      'other_event_id': other_event_id}} ORDER BY n)
                   FILTER (WHERE n <= $examples)
        FROM ranked GROUP BY who
        ORDER BY count(*) DESC, min(distance), who
        LIMIT $limit
        """,
        {
            **params,
            "window": window,
            "lo": lo,
            "hi": hi,
            "dlat": metres / METRES_PER_DEGREE,
            "metres": float(metres),
            "limit": limit,
            "examples": examples,
        },
    ).fetchall()
    return [
        Neighbour(
            entity_id=r[0],
            subjects=tuple(r[1]),
            encounters=int(r[2]),
            first=r[3],
            last=r[4],
            closest=float(r[5]),
            examples=tuple(Encounter(**e) for e in (r[6] or [])),
        )
        for r in rows
    ]
