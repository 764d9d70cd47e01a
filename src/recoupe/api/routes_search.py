"""Full-text, name and identifier search."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from recoupe.api.deps import RuntimeDep, ScopedReaderDep, SessionDep, fast_json
from recoupe.search.query import MAX_LIMIT, SearchQuery

router = APIRouter(prefix="/api", tags=["search"])


@router.get("/search", summary="Search entities by name, identifier or any value")
@fast_json
def search(
    runtime: RuntimeDep,
    session: SessionDep,
    reader: ScopedReaderDep,
    q: Annotated[str, Query(max_length=1000, description="Query text (see docs/search.md)")] = "",
    schema: Annotated[list[str] | None, Query(description="Schema (descendants too)")] = None,
    dataset: Annotated[list[str] | None, Query()] = None,
    country: Annotated[list[str] | None, Query()] = None,
    date_from: date | None = None,
    date_to: date | None = None,
    fuzzy: bool = True,
    facets: bool = True,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    query = SearchQuery.from_params(
        q,
        schema=schema,
        dataset=dataset,
        country=country,
        date_from=date_from,
        date_to=date_to,
        fuzzy=fuzzy,
        limit=limit,
        offset=offset,
        facets=facets,
    )
    return runtime.search.search(session, reader, query).to_dict()
