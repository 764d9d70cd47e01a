"""The HTTP API: ``create_app(settings)`` builds the FastAPI application.

Routers only parse parameters, call one service and shape the answer; errors become
problem documents in :mod:`recoupe.api.problems`. OpenAPI is served at ``/docs``.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import RequestResponseEndpoint

from recoupe import __version__
from recoupe.api import (
    problems,
    routes_auth,
    routes_data,
    routes_graph,
    routes_health,
    routes_ingest,
    routes_investigations,
    routes_places,
    routes_resolve,
    routes_search,
)
from recoupe.api.deps import get_principal, justification_of
from recoupe.api.limits import BodyLimit
from recoupe.config import Settings
from recoupe.errors import ConfigError, NotFound
from recoupe.security.audit import AuditLog
from recoupe.security.identity import Principal
from recoupe.security.secret import exposed_workspace, load_secret
from recoupe.security.sessions import Sessions, Throttle
from recoupe.services.accounts import SECURITY_DB, open_identities
from recoupe.services.investigations import Investigations
from recoupe.services.runtime import Runtime

SERVER_FILE = "server.json"
STATIC = Path(__file__).parent / "static"
APP = STATIC / "app"
# The workspace page loads nothing from elsewhere: scripts, styles, basemaps and data all
# come from this server (map and layout workers run from blob: URLs).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; child-src blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
"""Swagger UI 5 (swagger-ui-dist from npm, Apache-2.0: see its LICENSE and NOTICE)."""
DESCRIPTION = """Recoupe's API over one workspace: datasets and import runs, entities with
the provenance of every value, search, the link graph, timelines and places, exports, and
ingestion. Errors are `application/problem+json` documents."""


def server_file(workspace: Path) -> Path:
    """Where a running server announces its address (the CLI then talks to it)."""
    return workspace / SERVER_FILE


def create_app(settings: Settings, *, url: str | None = None) -> FastAPI:
    """The application over the workspace of ``settings``; ``url`` is announced when given.

    Refuses (ConfigError) to build without a proper server secret (:mod:`recoupe.security.secret`).
    """
    secret = load_secret(settings.workspace, settings.secret)
    exposed = exposed_workspace(settings.workspace)
    if exposed is not None:
        logging.getLogger("recoupe.api").warning(exposed)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings)
        runtime.ensure_fresh()
        app.state.runtime = runtime
        app.state.identities = open_identities(settings)
        app.state.sessions = Sessions(settings.workspace / SECURITY_DB, secret)
        app.state.throttle = Throttle()
        app.state.audit = AuditLog(settings.workspace / "audit.db")
        app.state.investigations = Investigations(settings.workspace)
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
            app.state.investigations.close()
            app.state.sessions.close()
            app.state.identities.close()

    app = FastAPI(
        title="Recoupe",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        license_info={"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        docs_url=None,  # served below from the package: the default pages load a CDN
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Recoupe API",
            swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # no badge fetched from outside
        )

    app.mount("/app", StaticFiles(directory=APP, check_dir=False), name="app")

    @app.get("/", include_in_schema=False)
    def workspace_page() -> Response:
        """The analyst workspace: one page, its script and style bundled in the package."""
        index = APP / "index.html"
        if not index.is_file():
            raise NotFound("the workspace is not built: run `make ui` (needs Node.js)")
        return Response(
            index.read_bytes(),
            media_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"},
        )

    problems.install(app)
    app.add_middleware(BodyLimit, max_upload=settings.max_upload)
    app.include_router(routes_auth.router)
    for module in (
        routes_data,
        routes_search,
        routes_graph,
        routes_places,
        routes_ingest,
        routes_resolve,
        routes_health,
        routes_investigations,
    ):
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
    if "name" in params and "/datasets/" in action:
        datasets.append(str(params["name"]))
    records = response.headers.get("x-records")
    try:
        justification = justification_of(request)
    except ConfigError:
        justification = None  # the request was refused for it
    request.app.state.audit.append(
        actor=principal.user.login,
        origin=request.client.host if request.client is not None else "unknown",
        action=action,
        entities=entities,
        datasets=datasets,
        query=getattr(request.state, "audit_query", None) or str(request.url.query) or None,
        results=int(records) if records is not None and records.isdigit() else None,
        justification=justification,
        status=response.status_code,
    )
