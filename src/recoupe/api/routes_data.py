"""Datasets, import runs, rejected rows, entities and exports."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from recoupe.api.deps import (
    AdminDep,
    ReaderDep,
    RuntimeDep,
    ScopedReaderDep,
    SessionDep,
    download,
    fast_json,
)
from recoupe.errors import NotFound
from recoupe.services.marking import checkpoint, export_marking, marking_of
from recoupe.store.duckdb import EXPORT_FORMATS

router = APIRouter(prefix="/api")


@router.get("/health", tags=["server"], summary="Server status and data generation")
@fast_json
def health(runtime: RuntimeDep, session: SessionDep) -> dict[str, Any]:
    from recoupe import __version__

    generation = session.generation()
    return {
        "status": "ok",
        "version": __version__,
        "workspace": str(runtime.workspace.resolve()),
        "generation": generation,
        "search_stale": runtime.search.is_stale(session),
    }


@router.get("/datasets", tags=["datasets"], summary="Datasets the reader may see")
@fast_json
def datasets(session: SessionDep, reader: ReaderDep) -> list[dict[str, Any]]:
    return [ds.__dict__ for ds in session.datasets(reader)]


@router.get("/datasets/{name}", tags=["datasets"], summary="One dataset")
@fast_json
def dataset(name: str, session: SessionDep, reader: ReaderDep) -> dict[str, Any]:
    return session.dataset(reader, name).__dict__


@router.get(
    "/ontology/labels",
    tags=["ontology"],
    summary="Labels of schemata and properties, in French or English",
)
@fast_json
def ontology_labels(
    reader: ReaderDep,
    lang: Annotated[str, Query(description="fr or en")] = "fr",
) -> dict[str, Any]:
    from recoupe.ontology.labels import labels

    return labels(lang)


class MarkingBody(BaseModel):
    level: str = Field(description="NP, DR, S, TS or the full name of a level")
    compartments: list[str] = Field(default_factory=list, description="Compartments needed")


@router.put("/datasets/{name}/marking", tags=["datasets"], summary="Mark a dataset (admins)")
def mark(
    name: str,
    body: MarkingBody,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    admin: AdminDep,
) -> dict[str, Any]:
    """Every statement of the dataset inherits the marking at once, for every reader."""
    marking = runtime.settings.scale.marking(body.level, body.compartments)
    session.set_marking(name, str(marking))
    request.state.audit_query = str(marking)
    return {"dataset": name, **marking.to_dict()}


@router.get("/runs", tags=["runs"], summary="Import runs and how their rows were accounted for")
@fast_json
def runs(
    session: SessionDep, reader: ReaderDep, dataset: str | None = None
) -> list[dict[str, Any]]:
    return [r.summary() for r in session.runs(reader, dataset)]


@router.get("/runs/{run_id}", tags=["runs"], summary="One import run")
@fast_json
def run(run_id: str, session: SessionDep, reader: ReaderDep) -> dict[str, Any]:
    return session.run(reader, run_id).summary()


@router.get(
    "/runs/{run_id}/rejected", tags=["runs"], summary="Rows a run rejected, values it dropped"
)
@fast_json
def rejected(
    run_id: str,
    session: SessionDep,
    reader: ScopedReaderDep,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    return {
        "rejected_rows": [r.__dict__ for r in session.rejected(reader, run_id, limit, offset)],
        "dropped_values": [d.__dict__ for d in session.dropped(reader, run_id, limit, offset)],
    }


@router.get(
    "/marking",
    tags=["datasets"],
    summary="The combined marking of datasets (a page's banner: what it shows came from them)",
)
def marking(
    session: SessionDep,
    reader: ReaderDep,
    dataset: Annotated[list[str] | None, Query(description="Datasets on screen")] = None,
) -> dict[str, Any]:
    """Datasets the reader may not see are left out: the banner never reveals them."""
    return marking_of(session, reader, dataset or []).to_dict()


@router.get(
    "/entities/{entity_id}",
    tags=["entities"],
    summary="An entity: its properties and every statement with its provenance",
)
@fast_json
def entity(entity_id: str, session: SessionDep, reader: ReaderDep) -> dict[str, Any]:
    found = session.entity(reader, entity_id)
    if found is None:
        raise NotFound(f"no entity {entity_id!r}")
    marking = marking_of(session, reader, found.datasets)
    checkpoint(reader, marking)
    return {
        **found.to_ftm(),
        **marking.to_dict(),
        "statements": [s.__dict__ for s in found.statements],
    }


@router.get(
    "/export",
    tags=["export"],
    summary="Download entities (ftm), statements with provenance (csv) or the graph (gexf)",
    response_class=FileResponse,
)
def export(
    runtime: RuntimeDep,
    session: SessionDep,
    reader: ReaderDep,
    background: BackgroundTasks,
    format: Annotated[str, Query(pattern="^(" + "|".join(EXPORT_FORMATS) + ")$")] = "ftm",
    dataset: str | None = None,
) -> FileResponse:
    suffix = {"ftm": "ftm.json", "csv": "statements.csv", "gexf": "gexf"}[format]
    media = {"ftm": "application/x-ndjson", "csv": "text/csv", "gexf": "application/xml"}
    marking = export_marking(session, reader, dataset)
    checkpoint(reader, marking, export=True)
    response = download(
        runtime,
        background,
        f"recoupe-export.{suffix}",
        media[format],
        lambda target: session.export(reader, format, target, dataset),
    )
    response.headers["X-Recoupe-Marking"] = str(marking)
    response.headers["X-Recoupe-Banner"] = quote(marking.banner)
    return response
