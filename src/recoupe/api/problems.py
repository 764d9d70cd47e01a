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


# Titles in French, for clients whose Accept-Language puts French first (RFC 9457 lets the
# title follow content negotiation; the detail, which names the culprit, stays as written).
FRENCH_TITLES = {
    "Authentication required": "Authentification requise",
    "Not allowed": "Non autorisé",
    "Justification required": "Justification requise",
    "Too many attempts": "Trop de tentatives",
    "Request too large": "Requête trop volumineuse",
    "Not found": "Introuvable",
    "Not supported": "Non pris en charge",
    "Invalid parameter": "Paramètre invalide",
    "Unknown schema or property": "Schéma ou propriété inconnus",
    "Invalid mapping": "Mapping invalide",
    "Unreadable source": "Source illisible",
    "Import failed": "Échec de l'import",
    "Operation refused": "Opération refusée",
    "Invalid request": "Requête invalide",
    "Internal error": "Erreur interne",
}


def prefers_french(request: Request | None) -> bool:
    """Whether the request's first language is French (``Accept-Language: fr-FR, en``)."""
    if request is None:
        return False
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return first == "fr" or first.startswith("fr-")


def problem(
    status: int, title: str, detail: str, request: Request | None = None, **extra: object
) -> JSONResponse:
    if prefers_french(request):
        title = FRENCH_TITLES.get(title, title)
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)


def install(app: FastAPI) -> None:
    """Map every error to a problem document; never send a stack trace."""

    @app.exception_handler(RecoupeError)
    async def recoupe_error(request: Request, exc: RecoupeError) -> JSONResponse:
        for kind, status, title in STATUS:
            if isinstance(exc, kind):
                response = problem(status, title, str(exc), request)
                if status == 401:
                    response.headers["WWW-Authenticate"] = 'Bearer realm="recoupe"'
                if isinstance(exc, TooManyAttempts):
                    response.headers["Retry-After"] = str(exc.retry_after)
                return response
        return problem(409, "Operation refused", str(exc), request)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"parameter": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg")}
            for e in exc.errors()
        ]
        detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
        return problem(422, "Invalid request", detail, request, errors=errors)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), str(exc.detail), request)

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500,
            "Internal error",
            "the server failed to answer; the error is in its log",
            request,
        )
