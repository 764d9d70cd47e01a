"""What every route depends on: the workspace runtime, a store session, who is asking.

Every ``/api`` route but ``/api/health`` needs ``Authorization: Bearer TOKEN``: a user's API
token, or the operator token the server writes into ``WORKSPACE/server.json`` for the
command line on the same machine (whoever can read the workspace folder is its operator).
"""

from __future__ import annotations

import functools
import json
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec

from fastapi import BackgroundTasks, Depends, Request
from fastapi.responses import FileResponse, JSONResponse

from recoupe.errors import Forbidden, Unauthorized
from recoupe.security.identity import Identities, Principal, User
from recoupe.security.reader import Reader
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


def get_principal(request: Request) -> Principal:
    """The user of the request's bearer token; 401 without a valid one."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send an API token: Authorization: Bearer TOKEN (recoupe users token)")
    token = token.strip()
    operator = request.app.state.operator_token
    if secrets.compare_digest(token.encode(), operator.encode()):
        name = request.headers.get("x-recoupe-os-user") or "operator"
        reader = Reader.system(f"os:{name}", request.app.state.runtime.settings.scale)
        user = User(reader.name, None, frozenset({"admin"}), "*", frozenset(), False)
        principal = Principal(user, frozenset({"read", "write", "admin", "audit"}), reader)
    else:
        identities = request.app.state.identities
        assert isinstance(identities, Identities)
        found = identities.authenticate_token(token)
        if found is None:
            raise Unauthorized("the API token is unknown, expired or revoked")
        principal = found
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def get_reader(principal: PrincipalDep) -> Reader:
    """Who is reading: needs the ``read`` scope."""
    if "read" not in principal.scopes:
        raise Forbidden(f"{principal.user.login}: this token may not read data")
    return principal.reader


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
