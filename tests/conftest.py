"""Shared fixtures: real DuckDB stores in temporary folders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recoupe.security.reader import Reader
from recoupe.store import DuckDBStore, open_store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBStore]:
    with open_store(tmp_path / "ws", create=True, memory_limit="1GB", threads=2) as opened:
        yield opened


@pytest.fixture
def reader() -> Reader:
    return Reader.system()


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))
    return path
