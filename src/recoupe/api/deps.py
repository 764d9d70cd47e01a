"""What every route depends on: the workspace runtime, a store session, the reader."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request

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


def get_reader(request: Request) -> Reader:
    """Who is asking. Until sign-in exists the server reads as the workspace operator."""
    return Reader.system()


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
SessionDep = Annotated[DuckDBStore, Depends(get_session)]
ReaderDep = Annotated[Reader, Depends(get_reader)]
