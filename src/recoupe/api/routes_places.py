"""Time and places: timelines, event histograms, areas, and who was near whom."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from recoupe.api.deps import ScopedReaderDep, SessionDep, fast_json
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
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
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
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
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
