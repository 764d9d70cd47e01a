"""Errors as JSON problem details (RFC 9457): the one place errors become HTTP statuses."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from recoupe.errors import (
    ConfigError,
    Forbidden,
    ImportFailed,
    JustificationRequired,
    MappingError,
    NotFound,
    OntologyError,
    RecoupeError,
    SourceError,
    TooLarge,
    TooManyAttempts,
    Unauthorized,
    UnsupportedOperation,
)

log = logging.getLogger("recoupe.api")
MEDIA_TYPE = "application/problem+json"
STATUS: list[tuple[type[RecoupeError], int, str]] = [
    (Unauthorized, 401, "Authentication required"),
    (Forbidden, 403, "Not allowed"),
    (JustificationRequired, 428, "Justification required"),
    (TooManyAttempts, 429, "Too many attempts"),
    (TooLarge, 413, "Request too large"),
    (NotFound, 404, "Not found"),
    (UnsupportedOperation, 501, "Not supported"),
    (ConfigError, 400, "Invalid parameter"),
    (OntologyError, 400, "Unknown schema or property"),
    (MappingError, 422, "Invalid mapping"),
    (SourceError, 422, "Unreadable source"),
    (ImportFailed, 422, "Import failed"),
]


def problem(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    """Map every error to a problem document; never send a stack trace."""

    @app.exception_handler(RecoupeError)
    async def recoupe_error(request: Request, exc: RecoupeError) -> JSONResponse:
        for kind, status, title in STATUS:
            if isinstance(exc, kind):
                response = problem(status, title, str(exc))
                if status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="recoupe"'
                if isinstance(exc, TooManyAttempts):
                    response.headers["Retry-After"] = str(exc.retry_after)
                return response
        return problem(409, "Operation refused", str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"parameter": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "Internal error",
            "the server failed to answer; the error is in its log",
        )
