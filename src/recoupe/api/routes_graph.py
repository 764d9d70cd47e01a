"""The link graph: neighbourhoods, paths, common neighbours, communities, centrality."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query
from fastapi.responses import FileResponse

from recoupe.api.deps import RuntimeDep, ScopedReaderDep, SessionDep, download, fast_json
from recoupe.security.reader import Reader
from recoupe.services.marking import checkpoint, export_marking
from recoupe.services.runtime import Runtime

router = APIRouter(prefix="/api/graph", tags=["graph"])
GRAPH_FORMATS = {"gexf": "application/xml", "graphml": "application/xml", "cypher": "text/plain"}


@router.get("/expand", summary="Neighbourhood of entities, by depth, with filters and a cap")
@fast_json
def expand(
    runtime: RuntimeDep,
    reader: ScopedReaderDep,
    id: Annotated[list[str], Query(description="Entity ids to start from")],
    depth: Annotated[int, Query(ge=1, le=6)] = 1,
    schema: Annotated[list[str] | None, Query(description="Only edges of these schemata")] = None,
    dataset: Annotated[list[str] | None, Query(description="Only edges from these")] = None,
    since: Annotated[str | None, Query(description="Only edges dated from (YYYY-MM-DD)")] = None,
    until: Annotated[str | None, Query(description="Only edges dated up to")] = None,
    cap: Annotated[int, Query(ge=1, le=100_000, description="At most this many nodes")] = 500,
) -> dict[str, Any]:
    return runtime.graph.expand(
        reader, id, depth=depth, schema=schema, dataset=dataset, since=since, until=until, cap=cap
    )


@router.get("/paths", summary="Shortest paths between two entities (k of them)")
@fast_json
def paths(
    runtime: RuntimeDep,
    reader: ScopedReaderDep,
    source: str,
    target: str,
    k: Annotated[int, Query(ge=1, le=20)] = 1,
) -> dict[str, Any]:
    return runtime.graph.paths(reader, source, target, k=k)


@router.get("/common", summary="Neighbours shared by all the given entities")
@fast_json
def common(
    runtime: RuntimeDep, reader: ScopedReaderDep, id: Annotated[list[str], Query(min_length=2)]
) -> dict[str, Any]:
    return runtime.graph.common(reader, id)


@router.get("/communities", summary="Communities of the whole graph (Leiden), largest first")
@fast_json
def communities(
    runtime: RuntimeDep, reader: ScopedReaderDep, top: Annotated[int, Query(ge=1, le=1000)] = 20
) -> dict[str, Any]:
    return runtime.graph.communities(reader, top=top)


@router.get("/centrality", summary="Most central entities (degree, PageRank, betweenness)")
@fast_json
def centrality(
    runtime: RuntimeDep,
    reader: ScopedReaderDep,
    measure: Annotated[str, Query(pattern="^(degree|pagerank|betweenness)$")] = "degree",
    top: Annotated[int, Query(ge=1, le=1000)] = 20,
) -> dict[str, Any]:
    return runtime.graph.centrality(reader, measure, top=top)


@router.get(
    "/export",
    summary="A neighbourhood (or the whole graph) as GEXF, GraphML or Cypher",
    response_class=FileResponse,
)
def export(
    runtime: RuntimeDep,
    session: SessionDep,
    reader: ScopedReaderDep,
    background: BackgroundTasks,
    format: Annotated[str, Query(pattern="^(gexf|graphml|cypher)$")] = "gexf",
    id: Annotated[list[str] | None, Query(description="Start here (else everything)")] = None,
    depth: Annotated[int, Query(ge=1, le=6)] = 1,
) -> FileResponse:
    checkpoint(reader, export_marking(session, reader, None), export=True)
    return download(
        runtime,
        background,
        f"recoupe-graph.{format}",
        GRAPH_FORMATS[format],
        lambda target: _export(runtime, reader, format, target, id, depth),
    )


def _export(
    runtime: Runtime, reader: Reader, fmt: str, target: Path, ids: list[str] | None, depth: int
) -> None:
    runtime.graph.export(reader, fmt, target, ids=ids, depth=depth)
