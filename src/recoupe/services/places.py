"""Place use cases: rebuild the location tables, search by area, who was nearby, tracks."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from recoupe.errors import ConfigError, NotFound
from recoupe.security.reader import Reader
from recoupe.services.timeline import check_range, period
from recoupe.store.duckdb import DuckDBStore
from recoupe.store.places import (
    Place,
    fixed_places,
    in_box,
    in_radius,
    near,
    places_build,
    places_stale,
    refresh_places,
    track,
)
from recoupe.store.timeline import captions, visible_schema

MAX_METRES = 100_000.0
MAX_MINUTES = 7 * 24 * 60.0
MAX_NEIGHBOURS = 500
MAX_EXAMPLES = 20
MAX_TRACK = 10_000
#: a page of places: a map asks for a viewport's worth at once
MAX_PLACES = 10_000


@dataclass(frozen=True)
class PlacesPage:
    """Entities at points in an area, one page of them."""

    total: int
    limit: int
    offset: int
    stale: bool
    places: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class NearReport:
    """Who was near an entity: grouped by person (or line) with example encounters."""

    entity_id: str
    schema: str
    caption: str | None
    metres: float
    minutes: float
    since: str | None
    until: str | None
    stale: bool
    neighbours: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TrackReport:
    """An entity's dated sightings in time order, and the points it is fixed at.

    ``points``: {ts, lat, lon, place_id, place_caption, event_id, schema, role, subject,
    subject_caption, datasets}, earliest first (``subject`` is the entity or the line it
    was seen through); ``total`` counts them all when ``limit`` cut the list short.
    ``fixed``: the entity's own coordinates or addresses, undated: {place_id,
    place_caption, lat, lon, datasets}.
    """

    entity_id: str
    schema: str
    caption: str | None
    since: str | None
    until: str | None
    limit: int
    total: int
    stale: bool
    points: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def refresh(store: DuckDBStore) -> dict[str, Any]:
    """Rebuild places and sightings from every statement; what was built and left out."""
    build = refresh_places(store)
    result = asdict(build)
    result["built_at"] = build.built_at.isoformat()
    return result


def status(store: DuckDBStore) -> dict[str, Any]:
    """Whether places are built, from which generation, and whether imports followed."""
    build = places_build(store)
    if build is None:
        return {"built": False, "stale": True, "generation": store.generation()}
    result = asdict(build)
    result.update(
        built=True,
        built_at=build.built_at.isoformat(),
        stale=build.generation != store.generation(),
        store_generation=store.generation(),
    )
    return result


def _check_point(lat: float, lon: float) -> None:
    if not -90.0 <= lat <= 90.0:
        raise ConfigError(f"latitude must be between -90 and 90 (got {lat})")
    if not -180.0 <= lon <= 180.0:
        raise ConfigError(f"longitude must be between -180 and 180 (got {lon})")


def _check_places_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PLACES:
        raise ConfigError(f"limit must be between 1 and {MAX_PLACES} (got {limit})")
    if offset < 0:
        raise ConfigError(f"offset must be zero or more (got {offset})")


def _page(
    store: DuckDBStore,
    reader: Reader,
    found: tuple[int, list[Place]],
    limit: int,
    offset: int,
) -> PlacesPage:
    total, places = found
    names = captions(store, reader, [p.entity_id for p in places])
    rows = []
    for place in places:
        row = asdict(place)
        row["datasets"] = list(place.datasets)
        row["caption"] = names.get(place.entity_id)
        rows.append(row)
    return PlacesPage(total, limit, offset, places_stale(store), rows)


def places_in_box(
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
) -> PlacesPage:
    """Entities inside a box; ``west > east`` means the box crosses the 180th meridian."""
    _check_places_page(limit, offset)
    _check_point(south, west)
    _check_point(north, east)
    if south > north:
        raise ConfigError(f"south ({south}) must not be north of north ({north})")
    _check_schemata(store, schemata)
    found = in_box(
        store, reader, south, west, north, east, schemata=schemata, limit=limit, offset=offset
    )
    return _page(store, reader, found, limit, offset)


def places_in_radius(
    store: DuckDBStore,
    reader: Reader,
    lat: float,
    lon: float,
    metres: float,
    *,
    schemata: list[str] | None = None,
    limit: int = 100,
    offset: int = 0,
) -> PlacesPage:
    """Entities within ``metres`` of a point, nearest first."""
    _check_places_page(limit, offset)
    _check_point(lat, lon)
    _check_metres(metres)
    _check_schemata(store, schemata)
    found = in_radius(
        store, reader, lat, lon, metres, schemata=schemata, limit=limit, offset=offset
    )
    return _page(store, reader, found, limit, offset)


def _check_metres(metres: float) -> None:
    if not 0.0 < metres <= MAX_METRES:
        raise ConfigError(f"distance must be more than 0 and at most {MAX_METRES:g} m")


def _check_schemata(store: DuckDBStore, schemata: list[str] | None) -> None:
    for name in schemata or []:
        if store.model.get(name) is None:
            raise ConfigError(f"no schema {name!r}")


def colocated(
    store: DuckDBStore,
    reader: Reader,
    entity_id: str,
    *,
    metres: float = 500.0,
    minutes: float = 30.0,
    limit: int = 20,
    examples: int = 3,
    since: str | None = None,
    until: str | None = None,
) -> NearReport:
    """Who was within ``metres`` and ``minutes`` of an entity (a person: of their lines).

    ``since`` and ``until`` (ISO dates, both inclusive) limit the entity's own sightings.
    """
    _check_metres(metres)
    if not 0.0 < minutes <= MAX_MINUTES:
        raise ConfigError(f"minutes must be more than 0 and at most {MAX_MINUTES:g}")
    if not 1 <= limit <= MAX_NEIGHBOURS:
        raise ConfigError(f"limit must be between 1 and {MAX_NEIGHBOURS} (got {limit})")
    if not 0 <= examples <= MAX_EXAMPLES:
        raise ConfigError(f"examples must be between 0 and {MAX_EXAMPLES} (got {examples})")
    check_range(since, until)
    start = period("since", since)[1] if since is not None else None
    end = period("until", until)[2] if until is not None else None
    schema = visible_schema(store, reader, entity_id)
    if schema is None:
        raise NotFound(f"no entity {entity_id!r}")
    found = near(
        store, reader, entity_id, metres, minutes, limit=limit, examples=examples,
        since=start, until=end,
    )  # fmt: skip
    ids = {entity_id}
    for neighbour in found:
        ids.add(neighbour.entity_id)
        ids.update(neighbour.subjects)
        for e in neighbour.examples:
            ids.update((e.subject, e.place_id, e.other_place_id))
    names = captions(store, reader, ids)
    rows = []
    for neighbour in found:
        row = asdict(neighbour)
        row["caption"] = names.get(neighbour.entity_id)
        row["first"] = neighbour.first.isoformat()
        row["last"] = neighbour.last.isoformat()
        row["subjects"] = [{"id": s, "caption": names.get(s)} for s in neighbour.subjects]
        row["examples"] = [
            {
                **asdict(e),
                "ts": e.ts.isoformat(),
                "other_ts": e.other_ts.isoformat(),
                "subject_caption": names.get(e.subject),
                "place_caption": names.get(e.place_id),
                "other_place_caption": names.get(e.other_place_id),
            }
            for e in neighbour.examples
        ]
        rows.append(row)
    return NearReport(
        entity_id=entity_id,
        schema=schema,
        caption=names.get(entity_id),
        metres=float(metres),
        minutes=float(minutes),
        since=since,
        until=until,
        stale=places_stale(store),
        neighbours=rows,
    )


def entity_track(
    store: DuckDBStore,
    reader: Reader,
    entity_id: str,
    *,
    since: str | None = None,
    until: str | None = None,
    limit: int = 1000,
) -> TrackReport:
    """Where an entity was seen, in time order (a person: through the lines they hold).

    ``since`` and ``until`` (ISO dates, both inclusive) bound the sightings; the first
    ``limit`` are given. The entity's fixed points (its address) come apart, in ``fixed``,
    whatever the dates. Only sightings whose sources the reader may all see are counted.
    """
    if not 1 <= limit <= MAX_TRACK:
        raise ConfigError(f"limit must be between 1 and {MAX_TRACK} (got {limit})")
    check_range(since, until)
    start = period("since", since)[1] if since is not None else None
    end = period("until", until)[2] if until is not None else None
    schema = visible_schema(store, reader, entity_id)
    if schema is None:
        raise NotFound(f"no entity {entity_id!r}")
    total, seen = track(store, reader, entity_id, since=start, until=end, limit=limit)
    fixed = fixed_places(store, reader, entity_id)
    ids = {entity_id, *(p.place_id for p in fixed)}
    ids.update(i for s in seen for i in (s.place_id, s.subject))
    names = captions(store, reader, ids)
    points = [
        {
            "ts": s.ts.isoformat(),
            "lat": s.lat,
            "lon": s.lon,
            "place_id": s.place_id,
            "place_caption": names.get(s.place_id),
            "event_id": s.event_id,
            "schema": s.schema,
            "role": s.role,
            "subject": s.subject,
            "subject_caption": names.get(s.subject),
            "datasets": list(s.datasets),
        }
        for s in seen
    ]
    rows = [
        {
            "place_id": p.place_id,
            "place_caption": names.get(p.place_id),
            "lat": p.lat,
            "lon": p.lon,
            "datasets": list(p.datasets),
        }
        for p in fixed
    ]
    return TrackReport(
        entity_id=entity_id,
        schema=schema,
        caption=names.get(entity_id),
        since=since,
        until=until,
        limit=limit,
        total=total,
        stale=places_stale(store),
        points=points,
        fixed=rows,
    )
