"""The HTTP API: ``create_app(settings)`` builds the FastAPI application.

Routers only parse parameters, call one service and shape the answer; errors become
problem documents in :mod:`recoupe.api.problems`. OpenAPI is served at ``/docs``.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from recoupe import __version__
from recoupe.api import (
    problems,
    routes_data,
    routes_graph,
    routes_ingest,
    routes_places,
    routes_search,
)
from recoupe.config import Settings
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
        announced = server_file(settings.workspace)
        if url is not None:
            announced.write_text(json.dumps({"url": url, "pid": os.getpid()}))
        try:
            yield
        finally:
            if url is not None:
                announced.unlink(missing_ok=True)
            runtime.close()

    app = FastAPI(
        title="Recoupe",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
    )
    problems.install(app)
    for module in (routes_data, routes_search, routes_graph, routes_places, routes_ingest):
        app.include_router(module.router)
    return app
