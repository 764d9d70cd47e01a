"""What every route depends on: the workspace runtime, a store session, who is asking.

Every ``/api`` route but login needs a credential: ``Authorization: Bearer TOKEN`` with a
user's API token or the operator token the server writes into ``WORKSPACE/server.json``
for the command line on the same machine (whoever can read the workspace folder is its
operator), or the session cookie of a browser login.
"""

from __future__ import annotations

import functools
import json
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec
from urllib.parse import unquote, urlsplit

from fastapi import BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse, JSONResponse

from recoupe.errors import ConfigError, Forbidden, Unauthorized
from recoupe.security.identity import Identities, Principal, User
from recoupe.security.reader import Reader
from recoupe.security.sessions import CSRF_HEADER, SESSION_COOKIE, Sessions
from recoupe.services.marking import scope_checkpoint
from recoupe.services.runtime import Runtime
from recoupe.store.duckdb import DuckDBStore


def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


def get_session(runtime: Annotated[Runtime, Depends(get_runtime)]) -> Iterator[DuckDBStore]:
    """A store cursor for this request only; closed when the answer is sent."""
    session = runtime.session()
    try:
        yield session
    finally:
        session.con.close()


JUSTIFICATION_HEADER = "x-recoupe-justification"
MAX_JUSTIFICATION = 500
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_principal(request: Request) -> Principal:
    """Who is asking: the user of the bearer token or of the login session cookie.

    401 without a valid credential. A request sent with a session cookie that changes
    something must also carry the session's CSRF token in ``X-CSRF-Token`` and, when the
    browser names its origin, come from this server's own pages (403 otherwise).
    """
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    header = request.headers.get("authorization", "")
    session_id = request.cookies.get(SESSION_COOKIE)
    if header:
        principal = _bearer(request, header)
    elif session_id:
        principal = _session(request, session_id)
    else:
        raise Unauthorized(
            "log in (POST /api/auth/login) or send an API token: Authorization: Bearer TOKEN"
        )
    request.state.principal = principal
    return principal


def _bearer(request: Request, header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token: Authorization: Bearer TOKEN (recoupe users token)")
    token = token.strip()
    operator = request.app.state.operator_token
    if secrets.compare_digest(token.encode(), operator.encode()):
        name = request.headers.get("x-recoupe-os-user") or "operator"
        reader = Reader.system(f"os:{name}", request.app.state.runtime.settings.scale)
        user = User(reader.name, None, frozenset({"admin"}), "*", frozenset(), False)
        return Principal(user, frozenset({"read", "write", "admin", "audit"}), reader)
    found = identities_of(request).authenticate_token(token)
    if found is None:
        raise Unauthorized("the API token is unknown, expired or revoked")
    return found


def _session(request: Request, session_id: str) -> Principal:
    sessions = request.app.state.sessions
    assert isinstance(sessions, Sessions)
    login = sessions.login_of(session_id)
    principal = identities_of(request).principal_of(login) if login is not None else None
    if principal is None:
        raise Unauthorized("the session has ended; log in again")
    if request.method not in SAFE_METHODS:
        check_origin(request)
        if not sessions.check_csrf(session_id, request.headers.get(CSRF_HEADER)):
            raise Forbidden(
                "the CSRF token is missing or wrong: send the recoupe_csrf cookie's value "
                "in X-CSRF-Token"
            )
    return principal


def check_origin(request: Request) -> None:
    """Refuse a browser request that another site's page sent (``Origin`` mismatch)."""
    origin = request.headers.get("origin")
    if origin is None:  # not sent by a browser, or by an old one on a same-origin request
        return
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise Forbidden(f"a request from {origin} may not act on this server")


def identities_of(request: Request) -> Identities:
    identities = request.app.state.identities
    assert isinstance(identities, Identities)
    return identities


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_reader(request: Request, principal: PrincipalDep) -> Reader:
    """Who is reading, and why when the request says (``X-Recoupe-Justification``, URL
    encoded so that any language fits a header): needs the ``read`` scope."""
    if "read" not in principal.scopes:
        raise Forbidden(f"{principal.user.login}: this token may not read data")
    settings = request.app.state.runtime.settings
    return replace(
        principal.reader, justification=justification_of(request), justify=settings.justify
    )


def justification_of(request: Request) -> str | None:
    raw = request.headers.get(JUSTIFICATION_HEADER)
    if raw is None:
        return None
    text = unquote(raw).strip()
    if len(text) > MAX_JUSTIFICATION:
        raise ConfigError(
            f"{JUSTIFICATION_HEADER}: {len(text)} characters; say why in at most "
            f"{MAX_JUSTIFICATION}"
        )
    return text or None


def get_scoped_reader(
    request: Request, reader: Annotated[Reader, Depends(get_reader)], session: SessionDep
) -> Reader:
    """The reader of a request over its ``dataset`` parameters (or all it may see), once
    the compartment checkpoint is passed."""
    scope_checkpoint(session, reader, request.query_params.getlist("dataset"))
    return reader


def get_writer(principal: PrincipalDep) -> Principal:
    """Who imports data: needs the ``write`` scope (analysts and admins)."""
    if "write" not in principal.scopes:
        raise Forbidden(f"{principal.user.login}: importing data needs the analyst role")
    return principal


def get_admin(principal: PrincipalDep) -> Principal:
    if "admin" not in principal.scopes:
        raise Forbidden(f"{principal.user.login}: this needs the admin role")
    return principal


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[DuckDBStore, Depends(get_session)]
ReaderDep = Annotated[Reader, Depends(get_reader)]
ScopedReaderDep = Annotated[Reader, Depends(get_scoped_reader)]
WriterDep = Annotated[Principal, Depends(get_writer)]
AdminDep = Annotated[Principal, Depends(get_admin)]


class FastJSON(JSONResponse):
    """JSON without FastAPI's generic encoder (twenty times slower on a graph answer)."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, default=_plain).encode("utf-8")


def _plain(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


P = ParamSpec("P")


def fast_json(endpoint: Callable[P, Any]) -> Callable[P, Any]:
    """Send what a route returns as :class:`FastJSON` (its annotation still documents it)."""

    @functools.wraps(endpoint)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        return FastJSON(endpoint(*args, **kwargs))

    return wrapper


def download(
    runtime: Runtime,
    background: BackgroundTasks,
    name: str,
    media_type: str,
    write: Callable[[Path], int | None],
) -> FileResponse:
    """A file made by ``write(path)`` in the workspace's tmp folder, deleted once sent.

    ``write`` may return a record count, sent in the ``X-Records`` header.
    """
    folder = Path(tempfile.mkdtemp(prefix="download-", dir=runtime.store.tmp))
    target = folder / name
    try:
        records = write(target)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    background.add_task(shutil.rmtree, folder, ignore_errors=True)
    headers = {"X-Records": str(records)} if records is not None else None
    return FileResponse(target, media_type=media_type, filename=name, headers=headers)
