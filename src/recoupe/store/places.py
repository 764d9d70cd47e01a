"""Where things are: geographic queries on the location tables of the DuckDB store.

The tables (``places``, ``sightings``, ``sighting_ids``) are built by
:func:`recoupe.store.places_build.refresh_places`; this module reads them: entities in a
box or a circle, and who was near whom (:func:`near`). Every read keeps only rows whose
sources the reader may all see. :func:`track` gives one entity's sightings in time order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from recoupe.errors import StoreError
from recoupe.ontology.located import located
from recoupe.security.reader import Reader
from recoupe.sql import quote_ident
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.places_build import PlacesBuild, places_build, places_stale, refresh_places
from recoupe.store.timeline import in_list, related, schema_prop_sql

__all__ = [
    "Encounter",
    "Neighbour",
    "Place",
    "PlacesBuild",
    "Sighting",
    "fixed_places",
    "in_box",
    "in_radius",
    "near",
    "places_build",
    "places_stale",
    "refresh_places",
    "track",
]

EARTH_RADIUS_M = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0


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


@dataclass(frozen=True)
class Sighting:
    """One dated sighting of ``subject`` (the entity, or a line it holds) at a place."""

    ts: datetime
    lat: float
    lon: float
    place_id: str
    event_id: str
    subject: str
    schema: str
    role: str
    datasets: tuple[str, ...]


def require_places(store: DuckDBStore) -> PlacesBuild:
    """The current build; :class:`StoreError` when places were never built."""
    build = places_build(store)
    if build is None:
        raise StoreError("places and sightings are not built yet: refresh them first")
    return build


def _visible(store: DuckDBStore, reader: Reader, *columns: str) -> str:
    """A predicate: ``source_id`` and every other source column in ``columns`` visible."""
    scope = store.scope_sql(reader)
    row = store.con.execute(f"SELECT list(source_id) FROM sources WHERE {scope}").fetchone()
    seen = sorted(int(i) for i in (row[0] or [])) if row else []
    if not seen:
        return "false"
    # a literal list is checked inside the scan; a subquery would be a join per row
    listed = "(" + ", ".join(str(i) for i in seen) + ")"
    return " AND ".join([scope, *(f"{quote_ident(c)} IN {listed}" for c in columns)])


def _box_sql(lat: str, lon: str, south: float, west: float, north: float, east: float) -> str:
    s, w, n, e = (repr(float(x)) for x in (south, west, north, east))
    where = f"{lat} BETWEEN {s} AND {n}"
    if west <= east:
        return where + f" AND {lon} BETWEEN {w} AND {e}"
    return where + f" AND ({lon} >= {w} OR {lon} <= {e})"  # across 180°


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
    return "true" if schemata is None else f"schema IN {in_list(schemata)}"


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
                     list_sort(list_distinct(list(f.dataset) || list(c.dataset))) AS datasets
              FROM p JOIN sources f ON f.source_id = p.source_id
                     JOIN sources c ON c.source_id = p.coord_source_id
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
    distance = haversine_sql(repr(float(lat)), repr(float(lon)), "lat", "lon")
    where = f"{box} AND {_schemata_sql(schemata)} AND {distance} <= {float(metres)!r}"
    return _places_query(
        store, reader, where, distance, "distance, entity_id, place_id", limit, offset
    )


# -- co-location ------------------------------------------------------------------------
def _names(store: DuckDBStore, table: str, hashes: Iterable[int]) -> dict[int, str]:
    """The entity ids behind sighting hashes (``table``: a dictionary of them)."""
    wanted = sorted(set(hashes))
    if not wanted:
        return {}
    listed = "(" + ", ".join(str(h) for h in wanted) + ")"
    rows = store.con.execute(
        f"SELECT h, min(id) FROM {quote_ident(table)} WHERE h IN {listed} GROUP BY h"
    ).fetchall()
    return {int(h): str(i) for h, i in rows}


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
    An encounter is a pair of sightings, ours and theirs.
    """
    require_places(store)
    loc = located(store.model)
    scope = store.scope_sql(reader)
    vis = _visible(store, reader, "place_source_id", "coord_source_id")
    window = max(1, round(minutes * 60))
    me = related(store, reader, [entity_id])
    found = store.con.execute("SELECT list(hash(x)) FROM unnest($me::VARCHAR[]) t(x)", {"me": me})
    mine_h = "(" + ", ".join(str(h) for h in (found.fetchone() or [[]])[0]) + ")"
    mine = (
        f"{vis} AND subject_h IN {mine_h} "
        "AND ($since::TIMESTAMP IS NULL OR ts >= $since::TIMESTAMP) "
        "AND ($until::TIMESTAMP IS NULL OR ts < $until::TIMESTAMP)"
    )
    params: dict[str, object] = {"since": since, "until": until}
    span = store.con.execute(f"SELECT min(ts), max(ts) FROM sightings WHERE {mine}", params)
    first_last = span.fetchone()
    if first_last is None or first_last[0] is None:
        return []
    # sightings are in time order: the bounds let the scan skip whole row groups
    lo = first_last[0] - timedelta(seconds=window)
    hi = first_last[1] + timedelta(seconds=window)
    distance = haversine_sql("t.lat", "t.lon", "o.lat", "o.lon")
    holdings = schema_prop_sql((h.schema, h.prop) for h in loc.holdings)
    rows = store.con.execute(
        f"""
        WITH t AS (
            SELECT subject_h, event_h, ts, lat, lon, place_h,
                   epoch_ms(ts) // $window_ms + k.k AS near_bucket
            FROM sightings JOIN (VALUES (-1), (0), (1)) k(k) ON true WHERE {mine}),
        pairs AS (
            SELECT t.subject_h, o.subject_h AS other_h, t.ts, o.ts AS other_ts, t.lat, t.lon,
                   o.lat AS other_lat, o.lon AS other_lon, t.place_h,
                   o.place_h AS other_place_h, {distance} AS distance, t.event_h,
                   o.event_h AS other_event_h
            FROM t JOIN (
                SELECT subject_h, event_h, ts, lat, lon, place_h,
                       epoch_ms(ts) // $window_ms AS bucket
                FROM sightings
                WHERE {vis} AND ts BETWEEN $lo AND $hi AND subject_h NOT IN {mine_h}
            ) o ON o.bucket = t.near_bucket
            WHERE abs(epoch(o.ts) - epoch(t.ts)) <= $window
              AND abs(o.lat - t.lat) <= $dlat
              AND least(abs(o.lon - t.lon), 360 - abs(o.lon - t.lon))
                  <= $dlat / greatest(cos(radians(greatest(abs(t.lat), abs(o.lat)))), 1e-6)
              AND {distance} <= $metres),
        others AS (
            SELECT h AS other_h, min(id) AS other FROM sighting_ids
            WHERE h IN (SELECT DISTINCT other_h FROM pairs) GROUP BY h),
        owners AS (
            SELECT entity_id AS other, min(value) AS holder FROM statements
            WHERE {scope} AND prop IN {in_list(loc.holding_props)}
              AND {holdings}
              AND entity_id IN (SELECT other FROM others)
            GROUP BY entity_id),
        g AS (SELECT coalesce(w.holder, n.other) AS who, n.other, p.* FROM pairs p
              JOIN others n USING (other_h) LEFT JOIN owners w USING (other)),
        ranked AS (SELECT g.*, row_number() OVER (PARTITION BY who
                   ORDER BY distance, abs(epoch(other_ts) - epoch(ts)), ts, other_event_h)
                   AS n FROM g WHERE who NOT IN {in_list(me)})
        SELECT who, list_sort(list(DISTINCT other)), count(*), min(least(ts, other_ts)),
               max(greatest(ts, other_ts)), min(distance),
               list({{'subject': subject_h, 'other': other_h, 'ts': ts, 'other_ts': other_ts,
                      'lat': lat, 'lon': lon, 'other_lat': other_lat, 'other_lon': other_lon,
                      'place_id': place_h, 'other_place_id': other_place_h,
                      'distance': distance, 'event_id': event_h,
                      'other_event_id': other_event_h}} ORDER BY n)
                   FILTER (WHERE n <= $examples)
        FROM ranked GROUP BY who
        ORDER BY count(*) DESC, min(distance), who
        LIMIT $limit
        """,
        {
            **params,
            "window": window,
            "window_ms": window * 1000,
            "lo": lo,
            "hi": hi,
            "dlat": metres / METRES_PER_DEGREE,
            "metres": float(metres),
            "limit": limit,
            "examples": examples,
        },
    ).fetchall()
    shown = [e for r in rows for e in (r[6] or [])]
    ids = ("subject", "other", "place_id", "other_place_id")
    events = ("event_id", "other_event_id")
    names = _names(store, "sighting_ids", (e[k] for e in shown for k in ids))
    names.update(_names(store, "sighting_events", (e[k] for e in shown for k in events)))
    keys = (*ids, *events)
    return [
        Neighbour(
            entity_id=r[0],
            subjects=tuple(r[1]),
            encounters=int(r[2]),
            first=r[3],
            last=r[4],
            closest=float(r[5]),
            examples=tuple(
                Encounter(**{**e, **{k: names.get(e[k], str(e[k])) for k in keys}})
                for e in (r[6] or [])
            ),
        )
        for r in rows
    ]


# -- tracks -----------------------------------------------------------------------------
def track(
    store: DuckDBStore,
    reader: Reader,
    entity_id: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1000,
) -> tuple[int, list[Sighting]]:
    """Sightings of ``entity_id`` and of the lines it holds, earliest first; (total, page).

    The entity's own sightings (a traveller) and those of what it holds (a person's phone
    lines), the same ones :func:`near` starts from. ``since`` (inclusive) and ``until``
    (exclusive) bound the time; the page is the first ``limit`` of them. A sighting is
    kept only when its three sources (the event, the place's link, the coordinates) are
    all visible; ``datasets`` names them.
    """
    require_places(store)
    vis = _visible(store, reader, "place_source_id", "coord_source_id")
    me = related(store, reader, [entity_id])
    found = store.con.execute("SELECT list(hash(x)) FROM unnest($me::VARCHAR[]) t(x)", {"me": me})
    hashes: list[int] = (found.fetchone() or [[]])[0] or []
    if not hashes:
        return 0, []
    mine_h = "(" + ", ".join(str(h) for h in hashes) + ")"
    rows = store.con.execute(
        f"""
        WITH page AS (
            SELECT count(*) OVER () AS total, * FROM sightings
            WHERE {vis} AND subject_h IN {mine_h}
              AND ($since::TIMESTAMP IS NULL OR ts >= $since::TIMESTAMP)
              AND ($until::TIMESTAMP IS NULL OR ts < $until::TIMESTAMP)
            ORDER BY ts, event_h, role, place_h, subject_h
            LIMIT $limit)
        SELECT p.total, p.ts, p.lat, p.lon, p.place_h, p.event_h, p.subject_h, p.schema,
               p.role, list_sort(list_distinct([a.dataset, b.dataset, c.dataset]))
        FROM page p JOIN sources a ON a.source_id = p.source_id
                    JOIN sources b ON b.source_id = p.place_source_id
                    JOIN sources c ON c.source_id = p.coord_source_id
        ORDER BY p.ts, p.event_h, p.role, p.place_h, p.subject_h
        """,
        {"since": since, "until": until, "limit": limit},
    ).fetchall()
    if not rows:
        return 0, []
    names = _names(store, "sighting_ids", (h for r in rows for h in (r[4], r[6])))
    events = _names(store, "sighting_events", (r[5] for r in rows))
    sightings = [
        Sighting(
            ts=r[1],
            lat=float(r[2]),
            lon=float(r[3]),
            place_id=names.get(r[4], str(r[4])),
            event_id=events.get(r[5], str(r[5])),
            subject=names.get(r[6], str(r[6])),
            schema=str(r[7]),
            role=str(r[8]),
            datasets=tuple(r[9]),
        )
        for r in rows
    ]
    # ties in time are put in the order of the ids, not of their hashes
    sightings.sort(key=lambda s: (s.ts, s.event_id, s.role, s.place_id, s.subject))
    return int(rows[0][0]), sightings


def fixed_places(store: DuckDBStore, reader: Reader, entity_id: str) -> list[Place]:
    """The entity's own points (coordinates of its own, or its addresses), by place id."""
    require_places(store)
    vis = _visible(store, reader, "coord_source_id")
    rows = store.con.execute(
        f"""
        WITH p AS (SELECT * FROM places WHERE {vis} AND entity_id = $entity)
        SELECT p.entity_id, p.schema, p.place_id, p.lat, p.lon,
               list_sort(list_distinct(list(f.dataset) || list(c.dataset)))
        FROM p JOIN sources f ON f.source_id = p.source_id
               JOIN sources c ON c.source_id = p.coord_source_id
        GROUP BY p.entity_id, p.schema, p.place_id, p.lat, p.lon
        ORDER BY p.place_id, p.lat, p.lon
        """,
        {"entity": entity_id},
    ).fetchall()
    return [Place(r[0], r[1], r[2], float(r[3]), float(r[4]), tuple(r[5])) for r in rows]
