"""Browser login: a session cookie and its CSRF token (API clients use bearer tokens)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from recoupe.api.deps import PrincipalDep, check_origin, get_principal, identities_of
from recoupe.errors import ConfigError, TooManyAttempts, Unauthorized
from recoupe.security.audit import AuditLog
from recoupe.security.identity import Principal
from recoupe.security.sessions import CSRF_COOKIE, LIFETIME, SESSION_COOKIE, Sessions, Throttle

router = APIRouter(prefix="/api/auth", tags=["auth"])
MAX_FIELD = 1024


def _client(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def _credentials(request: Request) -> tuple[str, str]:
    """``login`` and ``password`` from a JSON body or a browser form."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: dict[str, Any]
    if kind == "application/json":
        try:
            fields = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"request body: not JSON ({exc})") from None
        if not isinstance(fields, dict):
            raise ConfigError("request body: expected an object with login and password")
    elif kind in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        fields = dict(await request.form())
    else:
        raise ConfigError("send login and password as JSON or as a form")
    values = []
    for key in ("login", "password"):
        value = fields.get(key)
        if not isinstance(value, str) or not value or len(value) > MAX_FIELD:
            raise ConfigError(f"{key}: a non-empty text of at most {MAX_FIELD} characters")
        values.append(value)
    return values[0], values[1]


def _session_cookies(response: Response, request: Request, session_id: str, csrf: str) -> None:
    secure = request.app.state.runtime.settings.cookie_secure
    age = int(LIFETIME.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, session_id, max_age=age, path="/", secure=secure,
        httponly=True, samesite="strict",
    )  # fmt: skip
    response.set_cookie(
        CSRF_COOKIE, csrf, max_age=age, path="/", secure=secure, httponly=False,
        samesite="strict",
    )  # fmt: skip


@router.post("/login", summary="Log in with a password; sets the session and CSRF cookies")
async def login(request: Request, response: Response) -> dict[str, Any]:
    address = _client(request)
    throttle: Throttle = request.app.state.throttle
    wait = throttle.retry_after(address)
    if wait:
        raise TooManyAttempts(
            f"too many failed logins from {address}; try again in {wait} s", retry_after=wait
        )
    check_origin(request)
    name, password = await _credentials(request)
    identities = identities_of(request)
    principal = await run_in_threadpool(identities.check_password, name, password)
    audit: AuditLog = request.app.state.audit
    if principal is None:
        throttle.failed(address)
        audit.append(actor=name[:64], origin=address, action="POST /api/auth/login", status=401)
        raise Unauthorized("the login or the password is wrong, or the account is locked")
    sessions: Sessions = request.app.state.sessions
    session = sessions.start(principal.user.login, address, request.cookies.get(SESSION_COOKIE))
    _session_cookies(response, request, session.session_id, session.csrf)
    request.state.principal = principal  # the audit middleware records the login
    return {"user": principal.user.to_dict(), "scopes": sorted(principal.scopes)}


@router.post("/logout", summary="End the browser session", dependencies=[Depends(get_principal)])
def logout(request: Request, response: Response) -> dict[str, str]:
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        sessions: Sessions = request.app.state.sessions
        sessions.end(session_id)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"status": "logged out"}


@router.get("/me", summary="Who is logged in: account, clearance, scopes")
def me(principal: PrincipalDep) -> dict[str, Any]:
    return _me(principal)


def _me(principal: Principal) -> dict[str, Any]:
    reader = principal.reader
    cleared = (
        reader.scale.levels[reader.clearance].name
        if reader.clearance is not None
        else "every level"
    )
    return {
        "user": principal.user.to_dict(),
        "scopes": sorted(principal.scopes),
        "cleared": cleared,
    }
