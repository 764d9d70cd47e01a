"""Time and places: timelines, event histograms, areas, and who was near whom."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from recoupe import territories
from recoupe.api.deps import PrincipalDep, ScopedReaderDep, SessionDep, fast_json
from recoupe.services import places, timeline

router = APIRouter(prefix="/api")


@router.get(
    "/entities/{entity_id}/timeline",
    tags=["time"],
    summary="Dated statements and events of an entity (and of the lines it holds)",
)
@fast_json
def entity_timeline(
    entity_id: str,
    session: SessionDep,
    reader: ScopedReaderDep,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=timeline.MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    expand: bool = True,
) -> dict[str, Any]:
    page = timeline.entity_timeline(
        session,
        reader,
        entity_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
        expand=expand,
    )
    return page.to_dict()


@router.get("/timeline/histogram", tags=["time"], summary="Events per interval for entities")
@fast_json
def histogram(
    session: SessionDep,
    reader: ScopedReaderDep,
    id: Annotated[list[str], Query(description="Entity ids")],
    interval: Annotated[str, Query(pattern="^(day|week|month|year)$")] = "month",
    by_schema: bool = False,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    return timeline.events_histogram(
        session, reader, id, interval, by_schema=by_schema, since=since, until=until
    ).to_dict()


@router.get("/places/bbox", tags=["places"], summary="Entities located in a bounding box")
@fast_json
def bbox(
    session: SessionDep,
    reader: ScopedReaderDep,
    south: float,
    west: float,
    north: float,
    east: float,
    schema: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=places.MAX_PLACES)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return places.places_in_box(
        session, reader, south, west, north, east, schemata=schema, limit=limit, offset=offset
    ).to_dict()


@router.get("/places/radius", tags=["places"], summary="Entities within a radius of a point")
@fast_json
def radius(
    session: SessionDep,
    reader: ScopedReaderDep,
    lat: float,
    lon: float,
    metres: Annotated[float, Query(gt=0)],
    schema: Annotated[list[str] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=places.MAX_PLACES)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return places.places_in_radius(
        session, reader, lat, lon, metres, schemata=schema, limit=limit, offset=offset
    ).to_dict()


@router.get(
    "/entities/{entity_id}/near",
    tags=["places"],
    summary="Who was within R metres of this entity within T minutes (co-location)",
)
@fast_json
def near(
    entity_id: str,
    session: SessionDep,
    reader: ScopedReaderDep,
    metres: Annotated[float, Query(gt=0)] = 500,
    minutes: Annotated[float, Query(gt=0)] = 30,
    limit: Annotated[int, Query(ge=1, le=places.MAX_NEIGHBOURS)] = 20,
) -> dict[str, Any]:
    return places.colocated(
        session, reader, entity_id, metres=metres, minutes=minutes, limit=limit
    ).to_dict()


@router.get(
    "/entities/{entity_id}/track",
    tags=["places"],
    summary="Where this entity was seen, in time order (a person: through their lines)",
)
@fast_json
def track(
    entity_id: str,
    session: SessionDep,
    reader: ScopedReaderDep,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=places.MAX_TRACK)] = 1000,
) -> dict[str, Any]:
    return places.entity_track(
        session, reader, entity_id, since=since, until=until, limit=limit
    ).to_dict()


_LEVEL = "^(departement|region)$"


@router.get(
    "/territories",
    tags=["places"],
    summary="The built-in French régions and départements (codes, names, populations)",
)
def territory_list(
    principal: PrincipalDep,
    level: Annotated[str | None, Query(pattern=_LEVEL)] = None,
) -> list[dict[str, Any]]:
    found = (*territories.regions(), *territories.departements())
    return [t.to_dict() for t in found if level is None or t.level == level]


@router.get(
    "/territories/outlines",
    tags=["places"],
    summary="Their simplified outlines as GeoJSON, the offline basemap of France",
)
def territory_outlines(
    principal: PrincipalDep,
    level: Annotated[str | None, Query(pattern=_LEVEL)] = None,
) -> Response:
    if level is None:
        body = territories.outlines_path().read_bytes()
    else:
        body = json.dumps(territories.outlines(level), separators=(",", ":")).encode()
    return Response(
        body, media_type="application/geo+json", headers={"Cache-Control": "private, max-age=86400"}
    )


@router.get(
    "/territories/locate",
    tags=["places"],
    summary="The département and région a point lies in",
)
def territory_locate(
    principal: PrincipalDep,
    lat: Annotated[float, Query(ge=-90, le=90)],
    lon: Annotated[float, Query(ge=-180, le=180)],
) -> dict[str, Any]:
    found = territories.locate(lat, lon)
    region = territories.region_of(found) if found else None
    return {
        "departement": found.to_dict() if found else None,
        "region": region.to_dict() if region else None,
    }
