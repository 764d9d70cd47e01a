"""Investigations (saved graphs with notes and shares) and the audit log for auditors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from recoupe.api.deps import PrincipalDep, ReaderDep, RuntimeDep, SessionDep, WriterDep
from recoupe.errors import ConfigError, Forbidden
from recoupe.security.audit import AuditLog
from recoupe.services.investigations import Investigations, Member

router = APIRouter(prefix="/api")


def _investigations(request: Request) -> Investigations:
    found = request.app.state.investigations
    assert isinstance(found, Investigations)
    return found


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ConfigError(f"request body: not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise ConfigError("request body: an object with title, notes, nodes and shares")
    return body


@router.get("/investigations", tags=["investigations"], summary="Investigations I own or share")
def investigation_list(request: Request, reader: ReaderDep) -> list[dict[str, Any]]:
    return _investigations(request).list(Member.of(reader))


@router.post(
    "/investigations",
    tags=["investigations"],
    status_code=201,
    summary="Save a new investigation: title, notes, nodes [{id, x, y}], shares",
)
async def investigation_create(
    request: Request, session: SessionDep, reader: ReaderDep, writer: WriterDep
) -> dict[str, Any]:
    return _investigations(request).save(session, reader, await _body(request))


@router.get(
    "/investigations/{investigation_id}",
    tags=["investigations"],
    summary="An investigation rebuilt for the reader: the entities they may see and the links",
)
def investigation_open(
    investigation_id: str,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    reader: ReaderDep,
) -> dict[str, Any]:
    return _investigations(request).open(session, runtime.graph, reader, investigation_id)


@router.put(
    "/investigations/{investigation_id}",
    tags=["investigations"],
    summary="Save an investigation again (only its owner changes its shares)",
)
async def investigation_update(
    investigation_id: str,
    request: Request,
    session: SessionDep,
    reader: ReaderDep,
    writer: WriterDep,
) -> dict[str, Any]:
    body = await _body(request)
    return _investigations(request).save(session, reader, body, investigation_id)


@router.delete(
    "/investigations/{investigation_id}",
    tags=["investigations"],
    status_code=204,
    summary="Delete an investigation (its owner)",
)
def investigation_delete(
    investigation_id: str, request: Request, reader: ReaderDep, writer: WriterDep
) -> Response:
    _investigations(request).delete(reader, investigation_id)
    return Response(status_code=204)


@router.get("/audit", tags=["audit"], summary="The audit log, newest first (auditors)")
def audit_events(
    request: Request,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    if "audit" not in principal.scopes:
        raise Forbidden("reading the audit log needs the auditor role")
    log: AuditLog = request.app.state.audit
    verdict = log.verify()
    return {
        "events": [e.to_dict() for e in log.recent(limit=limit, before=before, actor=actor)],
        "intact": verdict.ok,
        "verdict": verdict.reason,
        "count": verdict.events,
    }
