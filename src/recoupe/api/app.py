"""The HTTP API: ``create_app(settings)`` builds the FastAPI application.

Routers only parse parameters, call one service and shape the answer; errors become
problem documents in :mod:`recoupe.api.problems`. OpenAPI is served at ``/docs``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from starlette.middleware.base import RequestResponseEndpoint

from recoupe import __version__
from recoupe.api import (
    problems,
    routes_data,
    routes_graph,
    routes_ingest,
    routes_places,
    routes_search,
)
from recoupe.api.deps import get_principal
from recoupe.config import Settings
from recoupe.security.audit import AuditLog
from recoupe.security.identity import Identities, Principal
from recoupe.services.runtime import Runtime

SERVER_FILE = "server.json"
DESCRIPTION = """Recoupe's API over one workspace: datasets and import runs, entities with
the provenance of every value, search, the link graph, timelines and places, exports, and
ingestion. Errors are `application/problem+json` documents."""


def server_file(workspace: Path) -> Path:
    """Where a running server announces its address (the CLI then talks to it)."""
    return workspace / SERVER_FILE


def create_app(settings: Settings, *, url: str | None = None) -> FastAPI:
    """The application over the workspace of ``settings``; ``url`` is announced when given."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings)
        runtime.ensure_fresh()
        app.state.runtime = runtime
        app.state.identities = Identities(settings.workspace / "security.db", settings.scale)
        app.state.audit = AuditLog(settings.workspace / "audit.db")
        app.state.operator_token = secrets.token_urlsafe(32)
        announced = server_file(settings.workspace)
        if url is not None:
            # Readable by the workspace's owner only: the token acts as the operator.
            fd = os.open(announced, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as out:
                info = {"url": url, "pid": os.getpid(), "token": app.state.operator_token}
                json.dump(info, out)
        try:
            yield
        finally:
            if url is not None:
                announced.unlink(missing_ok=True)
            runtime.close()
            app.state.audit.close()
            app.state.identities.close()

    app = FastAPI(
        title="Recoupe",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
    )
    problems.install(app)
    for module in (routes_data, routes_search, routes_graph, routes_places, routes_ingest):
        app.include_router(module.router, dependencies=[Depends(get_principal)])

    @app.middleware("http")
    async def audit(request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        principal = getattr(request.state, "principal", None)
        if isinstance(principal, Principal):
            record(request, response, principal)
        return response

    return app


def record(request: Request, response: Response, principal: Principal) -> None:
    """One audit event for an authenticated request: who, from where, what, how many."""
    route = request.scope.get("route")
    action = f"{request.method} {getattr(route, 'path', request.url.path)}"
    params = request.scope.get("path_params") or {}
    entities = [str(v) for k, v in params.items() if k.endswith("_id") and k != "run_id"]
    entities += request.query_params.getlist("ids")
    entities += [request.query_params[k] for k in ("source", "target") if k in request.query_params]
    datasets = request.query_params.getlist("dataset")
    records = response.headers.get("x-records")
    request.app.state.audit.append(
        actor=principal.user.login,
        origin=request.client.host if request.client is not None else "unknown",
        action=action,
        entities=entities,
        datasets=datasets,
        query=str(request.url.query) or None,
        results=int(records) if records is not None and records.isdigit() else None,
        justification=request.headers.get("x-recoupe-justification"),
        status=response.status_code,
    )
