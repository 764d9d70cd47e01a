"""Entity resolution: candidate pairs, the review queue, judgements, undo, explanations.

Reading pairs needs the ``read`` scope and shows only pairs whose two records the reader
may see; scoring, judging and undoing need ``write`` (analysts and admins). Scoring is a
background job (``/api/jobs/{id}`` shows its progress and, once done, the run reports).
After a change of the merged entities the search index and the graph are brought up to
date before the answer, so the next search already shows the merge.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from recoupe.api.deps import ReaderDep, RuntimeDep, SessionDep, WriterDep, fast_json
from recoupe.services import resolve
from recoupe.services.jobs import Job

router = APIRouter(prefix="/api/resolve", tags=["resolution"])


class RunBody(BaseModel):
    datasets: list[str] = Field(
        default_factory=list, description="Compare these datasets' records again with all"
    )
    full: bool = Field(False, description="Train again and score every pair anew")


class JudgementBody(BaseModel):
    left: str = Field(description="A record's entity id")
    right: str = Field(description="The other record's entity id")
    verdict: Literal["same", "different", "unsure"]
    reason: str | None = Field(None, max_length=2000, description="Why (kept in the history)")


def _refreshed(runtime: RuntimeDep, changed: int) -> None:
    if changed:
        runtime.refresh()


@router.post(
    "/runs",
    status_code=202,
    summary="Score candidate pairs (new and changed records); the run is queued as a job",
)
def run(body: RunBody, request: Request, runtime: RuntimeDep, writer: WriterDep) -> JSONResponse:
    spec = runtime.settings.resolve_spec()  # a bad spec is refused now, not in the job

    def work(job: Job) -> dict[str, Any]:
        session = runtime.session()
        try:
            reports = resolve.run(
                session, spec, datasets=body.datasets, full=body.full, progress=job.progress
            )
        finally:
            session.con.close()
        _refreshed(runtime, sum(r.merged for r in reports))
        return {"reports": [r.to_dict() for r in reports]}

    request.state.audit_query = f"datasets={body.datasets} full={body.full}"
    job = runtime.jobs.submit("resolve", "score candidate pairs", work)
    return JSONResponse(job.to_dict(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


@router.get("/pairs", summary="Candidate pairs, most likely first")
@fast_json
def pairs(
    session: SessionDep,
    reader: ReaderDep,
    min_probability: float = Query(0.5, ge=0, le=1),
    schema: str | None = None,
    limit: int = Query(100, ge=1, le=10_000),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    return resolve.pairs(
        session,
        reader,
        min_probability=min_probability,
        schema=schema,
        limit=limit,
        offset=offset,
    )


@router.get("/queue", summary="Pairs to review, most useful first, with both records")
@fast_json
def queue(
    session: SessionDep,
    reader: ReaderDep,
    min_probability: float = Query(0.1, ge=0, le=1),
    schema: str | None = None,
    limit: int = Query(20, ge=1, le=500),
    offset: int = Query(0, ge=0),
) -> list[dict[str, Any]]:
    return resolve.queue(
        session,
        reader,
        min_probability=min_probability,
        schema=schema,
        limit=limit,
        offset=offset,
    )


@router.post("/judgements", summary="Judge two records the same, different or unsure")
def judge(
    body: JudgementBody,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    reader: ReaderDep,
    writer: WriterDep,
) -> dict[str, Any]:
    found = resolve.judge(session, reader, body.left, body.right, body.verdict, reason=body.reason)
    _refreshed(runtime, found["changed"])
    return found


@router.get("/judgements", summary="Judgements, newest first (of one entity's records)")
@fast_json
def judgements(
    session: SessionDep,
    reader: ReaderDep,
    entity_id: str | None = None,
    limit: int = Query(100, ge=1, le=10_000),
) -> list[dict[str, Any]]:
    return resolve.judgements(session, reader, entity_id=entity_id, limit=limit)


@router.delete("/judgements/{judgement_id}", summary="Undo a judgement (it stays in history)")
def undo(
    judgement_id: int,
    runtime: RuntimeDep,
    session: SessionDep,
    reader: ReaderDep,
    writer: WriterDep,
    reason: str | None = Query(None, max_length=2000),
) -> dict[str, Any]:
    found = resolve.undo(session, reader, judgement_id, reason=reason)
    _refreshed(runtime, found["changed"])
    return found


@router.post("/entities/{entity_id}/undo", summary="Part a merged entity into its records")
def undo_entity(
    entity_id: str,
    runtime: RuntimeDep,
    session: SessionDep,
    reader: ReaderDep,
    writer: WriterDep,
    reason: str | None = Query(None, max_length=2000),
) -> dict[str, Any]:
    found = resolve.undo_entity(session, reader, entity_id, reason=reason)
    runtime.refresh()
    return found


@router.get("/entities/{entity_id}", summary="Why records are one entity: records, judgements")
@fast_json
def explain(entity_id: str, session: SessionDep, reader: ReaderDep) -> dict[str, Any]:
    return resolve.explain(session, reader, entity_id)
